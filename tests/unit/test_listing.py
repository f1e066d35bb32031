"""The credentials frame, from an auth file alone."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import registrykit as rk
from registrykit.frames import listing


def test_credentials_frame_never_shows_the_secret(tmp_path: Path) -> None:
    secret = "s3cr3t-value"  # test-only
    auth = tmp_path / "auth.json"
    token = base64.b64encode(f"alice:{secret}".encode()).decode()
    auth.write_text(json.dumps({"auths": {"registry.example.com": {"auth": token}}}))
    with rk.Client(cache_dir=None, auth_file=auth) as c:
        df = listing.credentials(client=c)
    assert list(df.columns) == ["registry", "username", "source"]
    row = df[df["registry"] == "registry.example.com"].iloc[0]
    assert row["username"] == "alice"
    assert secret not in df.to_string() and token not in df.to_string()
