"""Shorten text to a number of terminal columns."""

from __future__ import annotations

from .text import visible_len


def shorten(text: str, width: int, placeholder: str = "…") -> str:
    """TEXT cut to at most WIDTH columns, ending in PLACEHOLDER when it had to be cut."""
    if width < visible_len(placeholder):
        raise ValueError("width is smaller than the placeholder")
    if visible_len(text) <= width:
        return text
    return text[: width - visible_len(placeholder)] + placeholder
