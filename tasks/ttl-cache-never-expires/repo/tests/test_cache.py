import pytest

from simplecache import TTLCache


def test_get_returns_value(clock):
    cache = TTLCache(ttl=60, clock=clock)
    cache.set("a", 1)
    assert cache.get("a") == 1
    assert cache.get("missing", "dflt") == "dflt"


def test_entry_expires_after_ttl(clock):
    cache = TTLCache(ttl=60, clock=clock)
    cache.set("a", 1)
    clock.advance(61)
    assert cache.get("a") is None


def test_frequently_read_entry_still_expires(clock):
    cache = TTLCache(ttl=60, clock=clock)
    cache.set("flag", "old")
    for _ in range(20):
        clock.advance(5)
        cache.get("flag")
    assert cache.get("flag") is None


def test_per_key_ttl_is_respected_after_a_read(clock):
    cache = TTLCache(ttl=60, clock=clock)
    cache.set("token", "t", ttl=5)
    clock.advance(3)
    assert cache.get("token") == "t"
    clock.advance(3)
    assert cache.get("token") is None


def test_contains_does_not_extend_lifetime(clock):
    cache = TTLCache(ttl=10, clock=clock)
    cache.set("a", 1)
    clock.advance(8)
    assert "a" in cache
    clock.advance(8)
    assert "a" not in cache


def test_least_recently_used_is_evicted(clock):
    cache = TTLCache(ttl=60, maxsize=2, clock=clock)
    cache.set("a", 1)
    cache.set("b", 2)
    cache.get("a")
    cache.set("c", 3)
    assert "b" not in cache and "a" in cache and "c" in cache


def test_len_ignores_expired(clock):
    cache = TTLCache(ttl=10, clock=clock)
    cache.set("a", 1)
    cache.set("b", 2, ttl=30)
    clock.advance(20)
    assert len(cache) == 1


def test_pop(clock):
    cache = TTLCache(ttl=10, clock=clock)
    cache.set("a", 1)
    assert cache.pop("a") == 1 and cache.pop("a", "gone") == "gone"


@pytest.mark.parametrize("ttl, maxsize", [(0, 10), (-1, 10), (10, 0)])
def test_invalid_settings(ttl, maxsize):
    with pytest.raises(ValueError):
        TTLCache(ttl=ttl, maxsize=maxsize)
