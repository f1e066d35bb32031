"""Global CLI options parse to what the Client takes."""

from __future__ import annotations

import pytest

from registrykit.cli import build_parser


def test_concurrency_defaults_to_the_adaptive_limit() -> None:
    assert build_parser().parse_args(["runtime"]).concurrency == "auto"
    assert build_parser().parse_args(["--concurrency", "AUTO", "runtime"]).concurrency == "auto"
    assert build_parser().parse_args(["--concurrency", "12", "runtime"]).concurrency == 12


@pytest.mark.parametrize("bad", ["0", "-3", "many"])
def test_concurrency_refuses_what_is_not_auto_or_positive(bad: str) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--concurrency", bad, "runtime"])
