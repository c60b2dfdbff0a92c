"""Parse `key = value` text with `[section]` headers and `#`/`;` comments."""

from __future__ import annotations

from typing import Dict


class ParseError(ValueError):
    """A line that is neither a comment, a section header nor `key = value`."""


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return value


def parse_text(text: str) -> Dict[str, str]:
    """Flat {"key" or "section.key": value}; later keys win."""
    result: Dict[str, str] = {}
    section = ""
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1].strip()
            continue
        key, sep, value = line.partition("=")
        if not sep or not key.strip():
            raise ParseError(f"line {number}: expected key = value, got {raw!r}")
        name = f"{section}.{key.strip()}" if section else key.strip()
        result[name] = _unquote(value.strip())
    return result
