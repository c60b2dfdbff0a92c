"""The patch as a reviewer sees it: hidden characters made visible, file names unquoted, binary changes named.

A binary hunk is base85 that nobody can review, and a text change can be made to look binary, so review never shows
the base85: each binary change becomes one marker line with the file name and the sizes git recorded. The patch that
is applied is never touched here; this is display only.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass

from .patches import FilePatch, parse_patch
from .visible import visible, visible_line

__all__ = ["BinaryChange", "binary_change", "binary_changes", "file_name", "review_text"]

_B85 = {c: i for i, c in enumerate("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                    "!#$%&()*+-;<=>?@^_`{|}~")}  # git's base85 alphabet
_BINARY_STARTS = ("GIT binary patch", "Binary files ")
_BINARY_HUNK = re.compile(r"^(literal|delta) (\d+)$")
_C_ESCAPES = {"a": 7, "b": 8, "t": 9, "n": 10, "v": 11, "f": 12, "r": 13, '"': 34, "\\": 92}


@dataclass(frozen=True)
class BinaryChange:
    """A binary file in a patch: its name, what happened to it and its size before and after (None: not recorded)."""

    path: str
    status: str
    new_size: int | None
    old_size: int | None
    has_content: bool  # False for "Binary files ... differ": the patch cannot recreate the file

    def describe(self) -> str:
        """One line for review, e.g. 'binary change: logo.png (modified): 2048 bytes, was 1024 bytes; not shown'."""
        head = f"binary change: {visible_line(self.path)} ({self.status})"
        if not self.has_content:
            return f"{head}: content not in the patch (it cannot be applied)"
        if self.status == "deleted":
            return f"{head}: was {_size(self.old_size)}"
        sizes = _size(self.new_size) + ("" if self.status == "added" else f", was {_size(self.old_size)}")
        return f"{head}: {sizes}; content not shown"


def _size(size: int | None) -> str:
    return "size unknown" if size is None else f"{size} bytes"


def file_name(file: FilePatch) -> str:
    """The file's path as text: git's "quoted\\377" form decoded (undecodable bytes as surrogates), prefix removed."""
    for line in file.header:
        for marker, prefix in (("+++ ", "b/"), ("--- ", "a/"), ("rename to ", ""), ("copy to ", "")):
            if line.startswith(marker) and line[len(marker):] != "/dev/null":
                name = _unquote(line[len(marker):].rstrip("\t"))
                return name[len(prefix):] if prefix and name.startswith(prefix) else name
    first = file.header[0] if file.header else file.path
    match = re.match(r'^diff --git (?:"a/(?:[^"\\]|\\.)*"|a/\S*) ("b/(?:[^"\\]|\\.)*"|b/.*)$', first)
    return _unquote(match.group(1))[2:] if match else file.path


def _unquote(name: str) -> str:
    """Undo git's C-style quoting of a path ("a/caf\\303\\251"); other names come back as they are."""
    if len(name) < 2 or not (name.startswith('"') and name.endswith('"')):
        return name
    out, i, body = bytearray(), 0, name[1:-1]
    while i < len(body):
        char = body[i]
        if char == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            if nxt in "0123" and re.match(r"[0-7]{3}", body[i + 1 : i + 4]):
                out.append(int(body[i + 1 : i + 4], 8))
                i += 4
                continue
            if nxt in _C_ESCAPES:
                out.append(_C_ESCAPES[nxt])
                i += 2
                continue
        out += char.encode("utf-8", errors="surrogateescape")
        i += 1
    return out.decode("utf-8", errors="surrogateescape")


def binary_change(file: FilePatch) -> BinaryChange | None:
    """What a binary file's hunk does, or None for a text change."""
    lines = [line for hunk in file.hunks if hunk.whole_file for line in hunk.lines]
    name = file_name(file)
    if any(line.startswith("Binary files ") for line in lines):
        return BinaryChange(name, file.status, None, None, has_content=False)
    if "GIT binary patch" not in lines:
        return None
    blocks: list[tuple[str, int, list[str]]] = []  # (literal|delta, size, base85 lines): forward, then reverse
    for line in lines[lines.index("GIT binary patch") + 1 :]:
        match = _BINARY_HUNK.match(line)
        if match:
            blocks.append((match.group(1), int(match.group(2)), []))
        elif line and blocks:
            blocks[-1][2].append(line)
    sizes = [size if kind == "literal" else _delta_target_size(data) for kind, size, data in blocks[:2]]
    new_size = sizes[0] if sizes else None
    old_size = sizes[1] if len(sizes) > 1 else (0 if file.status == "added" else None)
    return BinaryChange(name, file.status, new_size, old_size, has_content=bool(blocks))


def _delta_target_size(lines: list[str]) -> int | None:
    """The result size a git binary delta declares (its second varint), or None when the data is malformed."""
    try:
        data = bytearray()
        for line in lines:
            length = ord(line[0]) - (ord("A") - 1 if line[0] <= "Z" else ord("a") - 27)
            chunk = bytearray()
            for start in range(1, len(line), 5):
                value = 0
                for char in line[start : start + 5]:
                    value = value * 85 + _B85[char]
                chunk += value.to_bytes(4, "big")
            data += chunk[:length]
            if len(data) > 64:
                break
        header = zlib.decompressobj().decompress(bytes(data), 32)  # bounded: only the two varints are needed
        sizes: list[int] = []
        value = shift = 0
        for byte in header:
            value |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                sizes.append(value)
                value, shift = 0, 0
                if len(sizes) == 2:
                    return sizes[1]
    except (KeyError, ValueError, OverflowError, IndexError, zlib.error):
        return None
    return None


def binary_changes(patch: str) -> list[BinaryChange]:
    """Every binary change in PATCH, in order."""
    found = (binary_change(file) for file in parse_patch(patch)) if patch.strip() else ()
    return [change for change in found if change is not None]


def review_text(patch: str) -> str:
    """PATCH for a terminal: binary bodies replaced by one marker line each, hidden characters made visible.

    Lines are split on "\\n" only, so a carriage return or other separator inside a line is shown, never obeyed."""
    out: list[str] = []
    for block in _file_blocks(patch):
        lines = block.split("\n")
        cut = next((i for i, line in enumerate(lines) if line.startswith("@@")), len(lines))
        marker = next((i for i, line in enumerate(lines[:cut]) if line.startswith(_BINARY_STARTS)), None)
        change = binary_change(parse_patch(block)[0]) if marker is not None else None
        if change is None:
            out.append(block)
        else:
            out.append("".join(line + "\n" for line in lines[:marker]) + f"*** {change.describe()} ***\n")
    return visible("".join(out))


def _file_blocks(patch: str) -> list[str]:
    """PATCH cut before each `diff --git` line (joined, the blocks are PATCH)."""
    starts = [0] + [m.start() + 1 for m in re.finditer("\n(?=diff --git )", patch)]
    return [patch[a:b] for a, b in zip(starts, starts[1:] + [len(patch)]) if a < b]
