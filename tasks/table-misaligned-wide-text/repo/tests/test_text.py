import unicodedata

import pytest

from tabletext import pad, strip_ansi, visible_len

RED = "\x1b[31m"
RESET = "\x1b[0m"


def test_visible_len_ascii():
    assert visible_len("hello") == 5


def test_visible_len_ignores_colours():
    assert visible_len(f"{RED}error{RESET}") == 5
    assert strip_ansi(f"{RED}error{RESET}") == "error"


def test_visible_len_wide_characters():
    assert visible_len("東京") == 4
    assert visible_len("ｶﾀｶﾅ") == 4


def test_visible_len_combining_marks():
    assert visible_len(unicodedata.normalize("NFD", "café")) == 4


@pytest.mark.parametrize("align,expected", [("left", "ab   "), ("right", "   ab"), ("center", " ab  ")], ids=["left", "right", "center"])
def test_pad(align, expected):
    assert pad("ab", 5, align) == expected


def test_pad_wide_text():
    assert pad("東京", 6) == "東京  "


def test_pad_rejects_unknown_alignment():
    with pytest.raises(ValueError):
        pad("x", 3, "middle")
