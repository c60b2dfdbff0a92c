"""Timestamps in the event feed: ISO 8601, with an optional UTC offset or a trailing 'Z'."""

from __future__ import annotations

from datetime import datetime


def parse_timestamp(text: str) -> datetime:
    """Parse a feed timestamp. Input without an offset is UTC (see the feed spec)."""
    text = text.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1]
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError as exc:
        raise ValueError(f"bad timestamp {text!r}: {exc}") from None
    return parsed.replace(tzinfo=None)


def format_timestamp(value: datetime) -> str:
    """The canonical feed form: seconds precision, 'Z' suffix."""
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")
