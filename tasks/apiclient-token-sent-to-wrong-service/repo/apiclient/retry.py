"""Retry delays: exponential backoff with a cap."""

from __future__ import annotations

from typing import List


def backoff_delays(attempts: int, base: float = 0.5, cap: float = 8.0) -> List[float]:
    """Seconds to wait before each retry: base, 2*base, 4*base, ... never above cap."""
    if attempts < 0:
        raise ValueError("attempts must be >= 0")
    return [min(cap, base * 2 ** n) for n in range(attempts)]
