import pytest

from settings import ParseError, parse_text


def test_keys_and_sections():
    text = "name = shop\n[db]\nhost = localhost\nport = 5432\n"
    assert parse_text(text) == {"name": "shop", "db.host": "localhost", "db.port": "5432"}


def test_comments_and_blank_lines_are_skipped():
    assert parse_text("# comment\n\n; also a comment\nkey = 1\n") == {"key": "1"}


def test_quotes_are_removed():
    assert parse_text("greeting = \"hello, world\"\nother = 'x'") == {"greeting": "hello, world", "other": "x"}


def test_later_key_wins():
    assert parse_text("a = 1\na = 2") == {"a": "2"}


def test_garbage_line_is_an_error():
    with pytest.raises(ParseError, match="line 2"):
        parse_text("a = 1\nnot a setting\n")
