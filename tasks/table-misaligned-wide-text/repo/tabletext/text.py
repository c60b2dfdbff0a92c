"""Measuring and padding text for terminal output."""

from __future__ import annotations

import re

_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def strip_ansi(text: str) -> str:
    """TEXT without colour escape sequences."""
    return _ANSI.sub("", text)


def visible_len(text: str) -> int:
    """How many terminal columns TEXT takes."""
    return len(strip_ansi(text))


def pad(text: str, width: int, align: str = "left") -> str:
    """TEXT padded with spaces to WIDTH columns (never cut)."""
    gap = max(0, width - visible_len(text))
    if align == "right":
        return " " * gap + text
    if align == "center":
        left = gap // 2
        return " " * left + text + " " * (gap - left)
    if align != "left":
        raise ValueError(f"unknown alignment {align!r}")
    return text + " " * gap
