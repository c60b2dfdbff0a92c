import pytest

from tabletext import shorten


def test_short_text_is_unchanged():
    assert shorten("hello", 10) == "hello"


def test_long_text_is_cut_with_placeholder():
    assert shorten("hello world", 8) == "hello w…"


def test_custom_placeholder():
    assert shorten("hello world", 8, placeholder="...") == "hello..."


def test_width_smaller_than_placeholder():
    with pytest.raises(ValueError):
        shorten("hello", 2, placeholder="...")


def test_wide_text_fits_the_width():
    assert shorten("東京都渋谷区神南", 9) == "東京都渋…"


def test_wide_text_never_overflows():
    assert shorten("東京都渋谷区神南", 8) == "東京都…"
