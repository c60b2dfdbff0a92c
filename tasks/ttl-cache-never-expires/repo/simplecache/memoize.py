"""@memoize(ttl=...): cache a function's results per argument tuple."""

from __future__ import annotations

import functools
import time
from typing import Any, Callable, Optional, TypeVar

from .cache import TTLCache

F = TypeVar("F", bound=Callable[..., Any])
_MISSING = object()


def memoize(ttl: float, maxsize: int = 256, clock: Optional[Callable[[], float]] = None) -> Callable[[F], F]:
    def decorate(func: F) -> F:
        cache = TTLCache(ttl, maxsize, clock or time.monotonic)

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            key = (args, tuple(sorted(kwargs.items())))
            value = cache.get(key, _MISSING)
            if value is _MISSING:
                value = func(*args, **kwargs)
                cache.set(key, value)
            return value

        wrapper.cache = cache  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorate
