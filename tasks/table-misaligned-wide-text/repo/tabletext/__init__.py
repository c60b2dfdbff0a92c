"""tabletext: aligned plain-text tables and helpers for terminal output."""

from .table import render
from .text import pad, strip_ansi, visible_len
from .truncate import shorten

__all__ = ["pad", "render", "shorten", "strip_ansi", "visible_len"]
