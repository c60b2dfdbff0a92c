"""Placeholder, being written."""

from .base import ToolSpec

TOOLS: list[ToolSpec] = []
