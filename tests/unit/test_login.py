"""rk.login refuses early, without a registry."""

from __future__ import annotations

import pytest

import registrykit as rk


def test_login_without_password_gives_the_hint(isolated_home):
    with pytest.raises(rk.AuthenticationError) as info:
        rk.login("ghcr.io", "me", None)
    assert "--password-stdin" in str(info.value)
