"""Parse and order MAJOR.MINOR.PATCH version strings (an optional leading 'v' is allowed)."""

from __future__ import annotations

import re
from typing import Iterable, List, Tuple

_VERSION = re.compile(r"^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?$")


def parse_version(text: str) -> Tuple[str, ...]:
    """Split a version into its three parts; missing parts count as 0 ('1.2' == '1.2.0')."""
    match = _VERSION.match(text.strip())
    if match is None:
        raise ValueError(f"not a version: {text!r}")
    return tuple(part or "0" for part in match.groups())


def compare(a: str, b: str) -> int:
    """-1, 0 or 1 as a is older than, the same as, or newer than b."""
    pa, pb = parse_version(a), parse_version(b)
    return (pa > pb) - (pa < pb)


def sort_versions(versions: Iterable[str]) -> List[str]:
    """Oldest first."""
    return sorted(versions, key=parse_version)


def latest(versions: Iterable[str]) -> str:
    return max(versions, key=parse_version)
