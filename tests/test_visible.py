"""visible() shows every hidden or control character as an escape; json_line() keeps them lossless and safe."""

from __future__ import annotations

import json
import sys
import unicodedata

import pytest

from coder.visible import HIDDEN, json_line, visible, visible_line

CASES = [
    ("\x1b[2K\rgone", "\\x1b[2K\\rgone"),
    ("bell\x07 bs\x08 nul\x00 del\x7f", "bell\\x07 bs\\x08 nul\\x00 del\\x7f"),
    ("csi\x9b31m nel\x85", "csi\\u009b31m nel\\u0085"),  # C1 controls: \u, so they differ from the bytes below
    ("caf\udce9 \udcff", "caf\\xe9 \\xff"),  # undecodable bytes (surrogateescape) show as the byte
    ("lone \ud800 \udc00", "lone \\ud800 \\udc00"),  # other surrogates (a model's "\ud800")
    ("admin\u202e \u2066x\u2069", "admin\\u202e \\u2066x\\u2069"),
    ("zero\u200bwidth\u200d\u200e\u200f", "zero\\u200bwidth\\u200d\\u200e\\u200f"),
    ("\ufeffbom \u2028 \u2029", "\\ufeffbom \\u2028 \\u2029"),
    ("tag\U000e0041\U000e007f", "tag\\U000e0041\\U000e007f"),
    ("keep\ttabs\nand newlines", "keep\ttabs\nand newlines"),
    ("naïve ✓ 日本 [bold] \\x1b", "naïve ✓ 日本 [bold] \\x1b"),  # ordinary text, a literal backslash: untouched
    ("", ""),
]


@pytest.mark.parametrize(("raw", "shown"), CASES)
def test_visible(raw: str, shown: str) -> None:
    assert visible(raw) == shown


def test_visible_line_escapes_layout_too() -> None:
    assert visible_line("a\tb\nc\x1b") == "a\\tb\\nc\\x1b"
    assert visible_line("plain name.py") == "plain name.py"


def test_result_is_printable_and_encodable() -> None:
    everything = "".join(chr(c) for c in range(0x110000) if HIDDEN.match(chr(c)))
    shown = visible_line(everything)
    shown.encode("utf-8")  # no surrogate left
    assert HIDDEN.search(shown) is None
    assert all(ch.isprintable() for ch in shown)


def test_every_control_format_and_surrogate_character_is_covered() -> None:
    """Every Cc, Cf, Cs, Zl and Zp character this Python knows of is escaped (a newer Unicode adds some: add them)."""
    missed = [f"U+{c:04X}" for c in range(sys.maxunicode + 1)
              if unicodedata.category(chr(c)) in ("Cc", "Cf", "Cs", "Zl", "Zp") and not HIDDEN.match(chr(c))]
    assert missed == []


@pytest.mark.parametrize("raw", [raw for raw, _ in CASES] + ["\U0001f600 emoji", "\U000e0100 selector"])
def test_json_line_round_trips_and_is_safe(raw: str) -> None:
    line = json_line({"text": raw, "nested": [raw]})
    assert "\n" not in line
    line.encode("utf-8")  # strict UTF-8 is fine
    assert HIDDEN.search(line) is None  # nothing hidden or raw in the file
    assert json.loads(line) == {"text": raw, "nested": [raw]}


def test_json_line_keeps_readable_unicode() -> None:
    assert json_line({"t": "naïve ✓ 日本"}) == '{"t": "naïve ✓ 日本"}'
    assert json_line({"p": object.__class__}) == '{"p": "<class \'type\'>"}'  # default=str
