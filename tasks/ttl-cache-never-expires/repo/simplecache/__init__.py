"""simplecache: an in-process TTL + LRU cache and a memoize decorator."""

from .cache import TTLCache
from .memoize import memoize

__all__ = ["TTLCache", "memoize"]
