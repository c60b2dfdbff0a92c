from datetime import datetime, timedelta, timezone

from eventlog.summary import event_age, sort_events, span

HELSINKI = {"id": "hel-1", "timestamp": "2024-03-01T10:00:00+02:00"}
LONDON = {"id": "lon-1", "timestamp": "2024-03-01T09:00:00Z"}
NEW_YORK = {"id": "nyc-1", "timestamp": "2024-03-01T05:30:00-05:00"}


def test_sort_same_zone():
    a = {"id": "a", "timestamp": "2024-03-01T09:00:00Z"}
    b = {"id": "b", "timestamp": "2024-03-01T08:00:00Z"}
    assert [e["id"] for e in sort_events([a, b])] == ["b", "a"]


def test_sort_across_offsets():
    assert [e["id"] for e in sort_events([LONDON, NEW_YORK, HELSINKI])] == ["hel-1", "lon-1", "nyc-1"]


def test_span_across_offsets():
    assert span([LONDON, HELSINKI, NEW_YORK]) == timedelta(hours=2, minutes=30)


def test_span_of_nothing():
    assert span([]) == timedelta(0)


def test_event_age_with_aware_now():
    now = datetime(2024, 3, 1, 12, 0, tzinfo=timezone.utc)
    assert event_age(HELSINKI, now) == timedelta(hours=4)


def test_event_age_defaults_to_current_time():
    old = {"id": "old", "timestamp": "2001-01-01T00:00:00Z"}
    assert event_age(old) > timedelta(days=365 * 20)
