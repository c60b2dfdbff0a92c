"""Summaries over lists of event dicts ({"id": ..., "timestamp": ...})."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Dict, List, Optional

from .timeparse import parse_timestamp

Event = Dict[str, str]


def sort_events(events: List[Event]) -> List[Event]:
    """Oldest first."""
    return sorted(events, key=lambda e: parse_timestamp(e["timestamp"]))


def span(events: List[Event]) -> timedelta:
    """Time between the first and the last event."""
    times = [parse_timestamp(e["timestamp"]) for e in events]
    return max(times) - min(times) if times else timedelta(0)


def event_age(event: Event, now: Optional[datetime] = None) -> timedelta:
    """How long ago the event happened."""
    now = now or datetime.utcnow()
    return now - parse_timestamp(event["timestamp"])
