"""Text from the sandbox or the model made safe to show: hidden and control characters become visible escapes.

Everything that came from outside (tool output, file names, patches, model text) is hostile input. A terminal obeys
ESC sequences and carriage returns, and bidi or zero-width characters reorder or hide text, so a line of a patch can
vanish from review. ``visible`` writes each such character as an escape (``\\x1b``, ``\\u202e``); a byte that was not
UTF-8 (carried as a surrogateescape surrogate) shows as ``\\xNN``, its value. ``json_line`` writes JSON that holds the
same characters as ``\\u`` escapes, so the file stays valid UTF-8, is safe to ``cat``, and reads back to the same text.
"""

from __future__ import annotations

import json
import re
from typing import Any

__all__ = ["visible", "visible_line", "json_line", "HIDDEN"]

# C0 controls, DEL and C1 controls; every surrogate (lone in a str: undecodable bytes or a model's "\ud800"); line and
# paragraph separators; every format character (Unicode category Cf: bidi controls, zero-width characters, BOM, tag
# characters); and the supplementary variation selectors (invisible, used to smuggle text).
_OTHERS = (
    "\x7f-\x9f\xad"
    "\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e"
    "\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f"
    "\ud800-\udfff\ufeff\ufff9-\ufffb"
    "\U000110bd\U000110cd\U00013430-\U0001343f\U0001bca0-\U0001bca3\U0001d173-\U0001d17a"
    "\U000e0001\U000e0020-\U000e007f\U000e0100-\U000e01ef"
)
HIDDEN = re.compile(f"[\x00-\x1f{_OTHERS}]")
_HIDDEN_BUT_LAYOUT = re.compile(f"[\x00-\x08\x0b-\x1f{_OTHERS}]")  # tab and newline kept
_NAMED = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:  # a byte that was not UTF-8, carried by surrogateescape: show the byte
        return f"\\x{code - 0xDC00:02x}"
    if code < 0x80:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def visible(text: str) -> str:
    """TEXT with every hidden or control character written as an escape; newlines and tabs kept for layout."""
    if _HIDDEN_BUT_LAYOUT.search(text) is None:
        return text
    return _HIDDEN_BUT_LAYOUT.sub(_escape, text)


def visible_line(text: str) -> str:
    """TEXT for one line (a file name, a title): newlines and tabs escaped too."""
    if HIDDEN.search(text) is None:
        return text
    return HIDDEN.sub(_escape, text)


def _json_escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    code -= 0x10000
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


def json_line(value: Any) -> str:
    """VALUE as one line of JSON: readable Unicode kept, hidden characters and lone surrogates as \\u escapes.

    json.loads gives back the same text (surrogates included), so undecodable bytes survive a round trip and the
    line can be written as strict UTF-8."""
    text = json.dumps(value, ensure_ascii=False, default=str)
    if HIDDEN.search(text) is None:
        return text
    return HIDDEN.sub(_json_escape, text)  # json.dumps escaped C0 already; the rest only occurs inside strings
