"""The one rule for choosing a platform: the one asked for, else linux/amd64,
else the first image platform.

Copies, pulls, listings, histories and inspect all pick an index entry or a
tag's row through here, so they never disagree about which image a
multi-arch tag "is" when nobody names a platform.
"""

from __future__ import annotations

from collections.abc import Sequence

from .errors import NotFound
from .manifest import Index, Platform

__all__ = ["DEFAULT_PLATFORM", "choose_platform", "platform_matches", "preferred_platform"]

DEFAULT_PLATFORM = Platform("linux", "amd64")


def choose_platform(platforms: Sequence[Platform]) -> Platform | None:
    """linux/amd64 when present, else the first; None for an empty sequence."""
    for p in platforms:
        if (p.os, p.architecture) == (DEFAULT_PLATFORM.os, DEFAULT_PLATFORM.architecture):
            return p
    return platforms[0] if platforms else None


def preferred_platform(index: Index) -> Platform:
    """The platform of ``index`` to use when none is named; NotFound when it has none."""
    chosen = choose_platform(index.platforms)
    if chosen is None:
        raise NotFound(f"index {index.digest} lists no image platforms")
    return chosen


def platform_matches(want: str | Platform | None, have: Platform | str | None) -> bool:
    """True when ``have`` satisfies ``want`` (no ``want`` matches anything, even None)."""
    if want is None:
        return True
    if have is None:
        return False
    return Platform.parse(want).matches(Platform.parse(have))
