"""Read a GGUF file's metadata header quickly (tensors and big arrays skipped), without loading the model."""

from __future__ import annotations

import struct
from pathlib import Path
from typing import IO, Any

from ..errors import CoderError

_SCALARS = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d"}
STRING, ARRAY = 8, 9


class GGUFError(CoderError, ValueError):
    """Not a GGUF file, or a truncated/corrupt one."""


def _read(handle: IO[bytes], size: int) -> bytes:
    data = handle.read(size)
    if len(data) != size:
        raise GGUFError("the file ends inside its metadata (truncated download?)")
    return data


def _string(handle: IO[bytes]) -> str:
    (length,) = struct.unpack("<Q", _read(handle, 8))
    return _read(handle, length).decode("utf-8", errors="replace")


def _value(handle: IO[bytes], kind: int, keep_arrays: bool) -> Any:
    if kind in _SCALARS:
        fmt = _SCALARS[kind]
        return struct.unpack(fmt, _read(handle, struct.calcsize(fmt)))[0]
    if kind == STRING:
        return _string(handle)
    if kind == ARRAY:
        item_kind, count = struct.unpack("<IQ", _read(handle, 12))
        if item_kind in _SCALARS and not keep_arrays:
            handle.seek(struct.calcsize(_SCALARS[item_kind]) * count, 1)
            return f"<array of {count}>"
        items = [_value(handle, item_kind, keep_arrays) for _ in range(count)]
        return items if keep_arrays else f"<array of {count}>"
    raise GGUFError(f"unknown GGUF value type {kind}")


def read_metadata(path: Path, keep_arrays: bool = False) -> dict[str, Any]:
    """Every metadata key; arrays (vocabulary, merges) are summarised unless keep_arrays."""
    with open(path, "rb") as handle:
        if _read(handle, 4) != b"GGUF":
            raise GGUFError(f"{path} is not a GGUF file")
        version, _tensors, kv_count = struct.unpack("<IQQ", _read(handle, 20))
        if version < 2:
            raise GGUFError(f"{path}: GGUF version {version} is too old")
        meta: dict[str, Any] = {}
        for _ in range(kv_count):
            key = _string(handle)
            (kind,) = struct.unpack("<I", _read(handle, 4))
            meta[key] = _value(handle, kind, keep_arrays)
        return meta


def context_length(meta: dict[str, Any]) -> int | None:
    arch = meta.get("general.architecture")
    value = meta.get(f"{arch}.context_length")
    return int(value) if isinstance(value, int) else None
