"""A dict-like cache whose entries expire after a time-to-live; least recently used go first when full."""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Callable, Hashable, Optional

_MISSING = object()


@dataclass
class _Entry:
    value: Any
    expires_at: float


class TTLCache:
    def __init__(self, ttl: float, maxsize: int = 128, clock: Callable[[], float] = time.monotonic) -> None:
        if ttl <= 0 or maxsize < 1:
            raise ValueError("ttl must be positive and maxsize at least 1")
        self.ttl = ttl
        self.maxsize = maxsize
        self._clock = clock
        self._data: "OrderedDict[Hashable, _Entry]" = OrderedDict()

    def set(self, key: Hashable, value: Any, ttl: Optional[float] = None) -> None:
        """Store value; ttl overrides the cache's default for this key."""
        expires_at = self._clock() + (self.ttl if ttl is None else ttl)
        self._data[key] = _Entry(value, expires_at)
        self._data.move_to_end(key)
        while len(self._data) > self.maxsize:
            self._data.popitem(last=False)

    def get(self, key: Hashable, default: Any = None) -> Any:
        entry = self._data.get(key)
        if entry is None:
            return default
        now = self._clock()
        if entry.expires_at <= now:
            del self._data[key]
            return default
        # Reading a key makes it recently used.
        entry.expires_at = now + self.ttl
        self._data.move_to_end(key)
        return entry.value

    def pop(self, key: Hashable, default: Any = None) -> Any:
        entry = self._data.pop(key, None)
        if entry is None or entry.expires_at <= self._clock():
            return default
        return entry.value

    def purge(self) -> int:
        """Drop expired entries; return how many were dropped."""
        now = self._clock()
        dead = [k for k, e in self._data.items() if e.expires_at <= now]
        for key in dead:
            del self._data[key]
        return len(dead)

    def __contains__(self, key: Hashable) -> bool:
        return self.get(key, _MISSING) is not _MISSING

    def __len__(self) -> int:
        self.purge()
        return len(self._data)
