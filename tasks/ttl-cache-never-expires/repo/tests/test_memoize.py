from simplecache import memoize


def test_memoize_caches_calls(clock):
    calls = []

    @memoize(ttl=60, clock=clock)
    def square(x):
        calls.append(x)
        return x * x

    assert [square(3), square(3), square(4)] == [9, 9, 16]
    assert calls == [3, 4]


def test_memoize_recomputes_after_ttl_even_when_called_often(clock):
    calls = []

    @memoize(ttl=60, clock=clock)
    def load():
        calls.append(clock.now)
        return len(calls)

    for _ in range(13):
        load()
        clock.advance(10)
    assert len(calls) == 3
