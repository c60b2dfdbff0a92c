"""Convert environment strings to the type of a setting's default value."""

from __future__ import annotations

from typing import Any


class ConfigError(ValueError):
    """A setting could not be read from the environment."""


def coerce(name: str, raw: str, like: Any) -> Any:
    """raw converted to the type of the default value like."""
    if like is None or isinstance(like, str):
        return raw
    if isinstance(like, (bool, int, float)):
        kind = type(like)
        try:
            return kind(raw.strip())
        except ValueError:
            raise ConfigError(f"{name}: expected {kind.__name__}, got {raw!r}") from None
    if isinstance(like, (list, tuple)):
        return type(like)(item.strip() for item in raw.split(",") if item.strip())
    raise ConfigError(f"{name}: settings of type {type(like).__name__} cannot be set from the environment")
