"""Durations written as 90s, 15m, 2h, 1d or combinations such as 1h30m."""

from __future__ import annotations

import re

UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_PART = re.compile(r"(\d+)([smhd])")
_WHOLE = re.compile(r"(?:\d+[smhd])+")


def parse_duration(text: str) -> int:
    """Seconds in TEXT; a bare number is seconds."""
    text = text.strip().lower().replace(" ", "")
    if text.isdigit():
        return int(text)
    if not _WHOLE.fullmatch(text):
        raise ValueError(f"not a duration: {text!r}")
    total = 0
    for value, unit in _PART.findall(text):
        total = int(value) * UNITS[unit]
    return total


def format_duration(seconds: int) -> str:
    """The shortest spelling: 5400 -> '1h30m', 0 -> '0s'."""
    if seconds < 0:
        raise ValueError("negative duration")
    parts = []
    for unit, size in sorted(UNITS.items(), key=lambda item: -item[1]):
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts) or "0s"
