"""Human sizes both ways: ``1.5 MiB`` for people, ``"2GB"`` / ``"10%"`` from them."""

from __future__ import annotations

import re

_UNITS = ("B", "KiB", "MiB", "GiB", "TiB", "PiB")
_PARSE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgtp]?i?b?)\s*$", re.IGNORECASE)
_FACTORS = {"": 1, "k": 1000, "m": 1000**2, "g": 1000**3, "t": 1000**4, "p": 1000**5}


def human_size(n: float) -> str:
    """Bytes in binary units, three significant digits: ``1.28 KiB``.

    The one way registrykit shows a size to a person: results, frames,
    plots, CLI and reports all use it, so one image has one size everywhere.
    """
    units, base = _UNITS, 1024
    value = float(n)
    sign = "-" if value < 0 else ""
    value = abs(value)
    for unit in units:
        if value < base or unit == units[-1]:
            if unit == "B":
                return f"{sign}{int(value)} B"
            # Three significant digits, but never an exponent (1000-1023 KiB).
            return f"{sign}{value:.3g} {unit}" if value < 1000 else f"{sign}{value:.0f} {unit}"
        value /= base
    raise AssertionError("unreachable")


def parse_size(text: str) -> int:
    """``"2GB"`` → 2e9, ``"1.5GiB"`` → 1.5·2³⁰, ``"300"`` → 300 bytes.

    Decimal units (kB, MB, GB) are powers of 1000 and binary ones (KiB,
    MiB, GiB) powers of 1024, as the IEC defines them.
    """
    match = _PARSE.match(text)
    if not match:
        raise ValueError(f"invalid size {text!r}: use a number with a unit, e.g. 500MB or 2GiB")
    number, unit = float(match.group(1)), match.group(2).lower()
    prefix = unit[:1] if unit[:1] in "kmgtp" and unit else ""
    factor = 1024 ** ("kmgtp".index(prefix) + 1) if prefix and "i" in unit else _FACTORS[prefix]
    return int(number * factor)


def parse_percent(text: str) -> float:
    """``"10%"`` → 0.10; ``"0.1"`` is taken as a fraction."""
    value = text.strip()
    try:
        if value.endswith("%"):
            return float(value[:-1]) / 100
        return float(value)
    except ValueError:
        raise ValueError(f"invalid percentage {text!r}: use e.g. 10%") from None
