"""A job that runs every N seconds, starting at a given time."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import List, Optional

from .durations import parse_duration


@dataclass
class Job:
    name: str
    every: str
    timeout: Optional[str] = None
    last_run: Optional[datetime] = field(default=None, compare=False)

    @property
    def interval(self) -> timedelta:
        return timedelta(seconds=parse_duration(self.every))

    @property
    def timeout_seconds(self) -> Optional[int]:
        return None if self.timeout is None else parse_duration(self.timeout)

    def next_run(self, now: datetime) -> datetime:
        return now if self.last_run is None else self.last_run + self.interval

    def is_due(self, now: datetime) -> bool:
        return self.next_run(now) <= now

    def upcoming(self, start: datetime, count: int) -> List[datetime]:
        """The next COUNT run times if the job first runs at START."""
        return [start + self.interval * n for n in range(count)]
