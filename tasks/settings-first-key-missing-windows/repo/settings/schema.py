"""Required keys and typed access."""

from __future__ import annotations

from typing import Dict, Iterable


class MissingSetting(KeyError):
    """A required key is not in the file."""

    def __str__(self) -> str:
        return f"missing setting: {self.args[0]!r}"


def require(values: Dict[str, str], keys: Iterable[str]) -> None:
    for key in keys:
        if key not in values:
            raise MissingSetting(key)


def as_int(values: Dict[str, str], key: str, default: int) -> int:
    raw = values.get(key)
    return default if raw is None or raw == "" else int(raw)
