import pytest

from jobrunner import format_duration, parse_duration


@pytest.mark.parametrize("text,seconds", [("45", 45), ("90s", 90), ("15m", 900), ("2h", 7200), ("1d", 86400)])
def test_single_unit(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text,seconds", [("1h30m", 5400), ("2m30s", 150), ("1d 2h", 93600)])
def test_combined_units(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "soon", "5x", "h1"])
def test_rejects_garbage(text):
    with pytest.raises(ValueError):
        parse_duration(text)


@pytest.mark.parametrize("seconds,text", [(0, "0s"), (59, "59s"), (5400, "1h30m"), (90061, "1d1h1m1s")])
def test_format_duration(seconds, text):
    assert format_duration(seconds) == text
