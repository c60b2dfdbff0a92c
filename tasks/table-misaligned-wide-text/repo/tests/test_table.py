import unicodedata

from tabletext import render


def test_ascii_table():
    assert render([["apple", 3], ["kiwi", 12]], headers=["fruit", "qty"], align=["left", "right"]) == (
        "fruit  qty\n"
        "-----  ---\n"
        "apple    3\n"
        "kiwi    12"
    )


def test_short_rows_are_filled():
    assert render([["a", "b"], ["c"]]) == "a  b\nc"


def test_coloured_cells_align():
    assert render([["\x1b[32mok\x1b[0m", "1"], ["fail", "2"]]) == "\x1b[32mok\x1b[0m    1\nfail  2"


def test_empty_table():
    assert render([]) == ""


def test_wide_characters_align():
    out = render([["東京", "14M"], ["Paris", "2M"]], headers=["city", "pop"])
    assert out == (
        "city   pop\n"
        "-----  ---\n"
        "東京   14M\n"
        "Paris  2M"
    )


def test_decomposed_accents_align():
    name = unicodedata.normalize("NFD", "José")
    assert render([[name, "x"], ["Anna", "y"]]) == f"{name}  x\nAnna  y"
