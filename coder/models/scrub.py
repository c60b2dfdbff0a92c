"""Text bound for a model: surrogateescape code points (undecodable bytes) become U+FFFD."""

from __future__ import annotations

import re
from typing import Any

# Tools carry bytes that are not UTF-8 (a Latin-1 file, a file named with byte 0xff) as surrogateescape code points
# U+DC80-U+DCFF, so the workspace, the patch and the trajectory keep the exact bytes. Such code points (and any other
# lone surrogate, e.g. "\udcff" in a model's JSON) cannot be encoded as UTF-8: sent as they are, the request fails
# ("surrogates not allowed") and the run is lost. The model never sees invalid UTF-8; it sees U+FFFD instead.
_SURROGATE = re.compile("[\ud800-\udfff]")
REPLACEMENT = "\ufffd"


def scrub_text(text: str) -> str:
    """TEXT with every surrogate code point replaced by U+FFFD (the same object when there is none)."""
    return text if text.isascii() else _SURROGATE.sub(REPLACEMENT, text)


def scrub(value: Any) -> Any:
    """A copy of a JSON-like value (dicts, lists, strings) with every string scrubbed, keys included."""
    if isinstance(value, str):
        return scrub_text(value)
    if isinstance(value, dict):
        return {scrub(k): scrub(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [scrub(v) for v in value]
    return value
