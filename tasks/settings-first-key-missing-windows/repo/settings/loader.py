"""Load settings files from disk."""

from __future__ import annotations

from pathlib import Path
from typing import Dict, Iterable, Union

from .parse import parse_text
from .schema import require

PathLike = Union[str, Path]


def load_file(path: PathLike) -> Dict[str, str]:
    with open(path, encoding="utf-8") as handle:
        return parse_text(handle.read())


def load_settings(*paths: PathLike, required: Iterable[str] = ()) -> Dict[str, str]:
    """Merge several files (later files win) and check the required keys."""
    merged: Dict[str, str] = {}
    for path in paths:
        merged.update(load_file(path))
    require(merged, required)
    return merged
