from datetime import datetime, timedelta, timezone

import pytest

from eventlog.timeparse import format_timestamp, parse_timestamp

UTC = timezone.utc


def test_z_suffix_is_utc():
    assert parse_timestamp("2024-03-01T12:00:00Z") == datetime(2024, 3, 1, 12, tzinfo=UTC)


def test_offset_is_converted_to_utc():
    parsed = parse_timestamp("2024-03-01T12:00:00+02:00")
    assert parsed == datetime(2024, 3, 1, 10, tzinfo=UTC)
    assert parsed.utcoffset() == timedelta(0)


def test_negative_offset():
    assert parse_timestamp("2024-03-01T07:30:00-05:00") == datetime(2024, 3, 1, 12, 30, tzinfo=UTC)


def test_naive_input_is_utc():
    assert parse_timestamp("2024-03-01T12:00:00").tzinfo is not None


def test_fractional_seconds_kept():
    assert parse_timestamp("2024-03-01T12:00:00.250").microsecond == 250000


@pytest.mark.parametrize("bad", ["", "yesterday", "2024-13-01T00:00:00"])
def test_rejects_garbage(bad):
    with pytest.raises(ValueError):
        parse_timestamp(bad)


def test_format_timestamp():
    assert format_timestamp(datetime(2024, 3, 1, 12, 0, 5)) == "2024-03-01T12:00:05Z"
