import pytest

from relnotes.versions import compare, latest, parse_version, sort_versions


@pytest.mark.parametrize(
    "a, b, expected",
    [
        ("1.2.3", "1.2.4", -1),
        ("2.0.0", "1.9.9", 1),
        ("1.2", "1.2.0", 0),
        ("v1.0.0", "1.0.0", 0),
        ("1.10.0", "1.9.0", 1),
        ("1.2.10", "1.2.9", 1),
        ("10.0.0", "9.1.1", 1),
    ],
)
def test_compare(a, b, expected):
    assert compare(a, b) == expected


def test_latest_with_double_digit_minor():
    assert latest(["1.9.0", "1.10.0", "1.2.0"]) == "1.10.0"


def test_sort_versions():
    assert sort_versions(["1.2.0", "1.10.0", "1.1.0"]) == ["1.1.0", "1.2.0", "1.10.0"]


@pytest.mark.parametrize("bad", ["", "1.x", "1.2.3.4", "latest"])
def test_rejects_garbage(bad):
    with pytest.raises(ValueError):
        parse_version(bad)
