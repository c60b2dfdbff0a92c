"""Reading a git patch's file headers exactly as `git apply` reads them, strictly: anything unexpected is refused.

Paths are bytes (names need not be UTF-8) after C-unquoting ("a/\\303\\251 x.txt"). Each file section is checked for
consistency (the `diff --git` names, `---`/`+++`, `rename`/`copy` lines must agree), hunk bodies are counted as git
counts them (so a body line such as `--- x` is never taken for a header), and binary hunks are read to their end.
The rules about which paths are acceptable live in coder/patch_check.py.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from .errors import CoderError

__all__ = ["FileChange", "UnsafePatch", "parse_patch", "shown"]

ChangeKind = Literal["modify", "add", "delete", "rename", "copy"]
NameCheck = Callable[[bytes, str], None]  # called with each path as soon as it is read, and what the patch does to it


class UnsafePatch(CoderError, ValueError):
    """The patch may not be shown or applied; the message says why in one line."""

    PREFIX = "the patch was refused: "

    def refusal(self) -> str:
        """The one line a run or a delivery reports: 'the patch was refused: WHY'."""
        return self.PREFIX + str(self)


@dataclass(frozen=True)
class FileChange:
    """One file section of a patch, as git will apply it."""

    kind: ChangeKind
    old: bytes | None  # the path read (None for a new file)
    new: bytes | None  # the path written (None for a deletion)
    modes: tuple[str, ...] = ()  # every mode the headers name
    result_mode: str | None = None  # the mode the file ends with, when the headers say
    link_target: bytes | None = None  # the whole new content, when it is one line without a newline
    binary: bool = False

    @property
    def source_verb(self) -> str:
        return {"copy": "copies from", "rename": "renames", "delete": "deletes"}.get(self.kind, "changes")


def shown(name: bytes) -> str:
    """NAME quoted for a message, undecodable bytes and control characters made visible."""
    text = name.decode("utf-8", errors="backslashreplace")
    text = "".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in text)
    return "'" + (text if len(text) <= 200 else text[:200] + "...") + "'"


_HEADER_OPS = (  # git apply's table, in its order (first matching prefix wins)
    (b"--- ", "minus"), (b"+++ ", "plus"), (b"old mode ", "old mode"), (b"new mode ", "new mode"),
    (b"deleted file mode ", "deleted file mode"), (b"new file mode ", "new file mode"),
    (b"copy from ", "copy from"), (b"copy to ", "copy to"), (b"rename old ", "rename from"),
    (b"rename new ", "rename to"), (b"rename from ", "rename from"), (b"rename to ", "rename to"),
    (b"similarity index ", "similarity"), (b"dissimilarity index ", "dissimilarity"), (b"index ", "index"))
_HUNK = re.compile(rb"@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")
_MODE = re.compile(rb"[0-7]{6}")
_INDEX = re.compile(rb"([0-9a-f]{4,64})\.\.([0-9a-f]{4,64})(?: ([0-7]{6}))?")
_PERCENT = re.compile(rb"\d{1,3}%")
_BINARY_HUNK = re.compile(rb"(?:literal|delta) \d+")
_BASE85 = re.compile(rb"[0-9A-Za-z!#$%&()*+\-;<=>?@^_`{|}~]*")
_ESCAPES = {ord(k): v for k, v in zip("abfnrtv\\\"", b"\a\b\f\n\r\t\v\\\"")}
_CONTROL = re.compile(rb"[\x00-\x1f\x7f]")


def _fail(lineno: int, why: str, line: bytes | None = None) -> UnsafePatch:
    return UnsafePatch(f"line {lineno} of the patch {why}" + (f": {shown(line[:120])}" if line is not None else ""))


def _unquote(data: bytes, lineno: int) -> tuple[bytes, bytes]:
    """A C-quoted name at the start of DATA (as git writes names with special bytes) and what follows it."""
    out, i = bytearray(), 1
    while i < len(data):
        c = data[i]
        if c == 0x22:  # closing quote
            return bytes(out), data[i + 1:]
        if c == 0x5C:
            esc = data[i + 1:i + 2]
            if esc and esc[0] in _ESCAPES:
                out.append(_ESCAPES[esc[0]])
                i += 2
            elif re.fullmatch(rb"[0-3][0-7][0-7]", data[i + 1:i + 4]):
                out.append(int(data[i + 1:i + 4], 8))
                i += 4
            else:
                raise _fail(lineno, "has a bad escape in a quoted name", data)
        else:
            out.append(c)
            i += 1
    raise _fail(lineno, "has an unterminated quoted name", data)


def _plain(name: bytes, lineno: int) -> bytes:
    if _CONTROL.search(name) or name.startswith(b'"'):
        raise _fail(lineno, "has a name with control characters that git would have quoted", name)
    return name


def _strip(name: bytes, lineno: int, exact: bytes | None = None) -> bytes:
    """NAME without its first component, as `git apply -p1` reads it; the component must be EXACT when given."""
    cut = name.find(b"/")
    if cut <= 0 or (exact is not None and name[:cut + 1] != exact):
        raise _fail(lineno, "names a path without the prefix git writes (a/, b/)", name)
    return name[cut + 1:]


def _name(value: bytes, lineno: int, strip: bool = False, exact: bytes | None = None, tab_ok: bool = False) -> bytes:
    """The path in VALUE (quoted or not), without its a/ or b/ prefix when STRIP; nothing may follow it but, for
    `---`/`+++` lines (TAB_OK), the one tab git adds after names with spaces."""
    if value.startswith(b'"'):
        name, rest = _unquote(value, lineno)
        if rest and not (tab_ok and rest == b"\t"):
            raise _fail(lineno, "has text after a quoted name", value)
    else:
        if tab_ok and value.endswith(b"\t") and b" " in value:
            value = value[:-1]
        name = _plain(value, lineno)
    return _strip(name, lineno, exact) if strip else name


def _joins(raw: bytes, old: bytes, new: bytes) -> bool:
    """Whether an unquoted `diff --git` RAW is "P/OLD Q/NEW" for one-component prefixes P and Q."""
    if not raw.endswith(b"/" + new):
        return False
    first, sep, second = raw[:len(raw) - len(new) - 1].rpartition(b" ")
    cut = first.find(b"/")
    return bool(sep) and bool(second) and b"/" not in second and cut > 0 and first[cut + 1:] == old


def _same_twice(raw: bytes) -> tuple[bytes, bytes] | None:
    """An unquoted `diff --git` RAW split where both names are the same path (git's own rule for this case)."""
    cut = raw.find(b"/")
    rest = raw[cut + 1:]
    for at in (k for k, c in enumerate(rest) if c == 0x20 and cut > 0):
        second = rest[at + 1:]
        slash = second.find(b"/")
        if slash > 0 and second[slash + 1:] == rest[:at]:
            return raw[:cut + 1 + at], second
    return None


def _split_diff_git(rest: bytes, lineno: int) -> tuple[bytes, bytes] | None:
    """The two names of `diff --git A B` with their a/ and b/ prefixes, or None when unquoted names with spaces
    leave the split open (the other headers settle it)."""
    if rest.startswith(b'"'):
        first, tail = _unquote(rest, lineno)
        if not tail.startswith(b" "):
            raise _fail(lineno, "has a malformed diff --git line", rest)
        second = _unquote(tail[1:], lineno) if tail[1:2] == b'"' else (_plain(tail[1:], lineno), b"")
        if second[1]:
            raise _fail(lineno, "has text after a quoted name", rest)
        return first, second[0]
    if b'"' in rest:
        at = rest.index(b'"')
        if rest[at - 1:at] != b" ":
            raise _fail(lineno, "has a malformed diff --git line", rest)
        quoted, tail = _unquote(rest[at:], lineno)
        if tail:
            raise _fail(lineno, "has text after a quoted name", rest)
        return _plain(rest[:at - 1], lineno), quoted
    _plain(rest, lineno)
    if rest.count(b" ") == 1:
        old, new = rest.split(b" ")
        return old, new
    return None


Body = list[tuple[bytes, bytes, bool]]  # (" ", "-" or "+", the text, followed by "\\ No newline")
_KEPT = 3  # body lines kept per hunk: enough to read a link target, little for a large patch
_SPACE, _MINUS, _PLUS, _BACKSLASH = 0x20, 0x2D, 0x2B, 0x5C


def _hunk(lines: list[bytes], i: int) -> tuple[int, tuple[int, int, Body | None]]:
    """Read the hunk at line I as git does; returns the next line and (old start, new start, body), the body None
    when it is longer than a link target could be."""
    match = _HUNK.match(lines[i])
    if not match:
        raise _fail(i + 1, "has a malformed hunk header", lines[i])
    old = int(match[2]) if match[2] is not None else 1
    new = int(match[4]) if match[4] is not None else 1
    body: Body = []
    seen = 0
    i += 1
    while old > 0 or new > 0:
        if i >= len(lines):
            raise _fail(i, "ends inside a hunk")
        line = lines[i]
        kind = line[0] if line else _SPACE  # git reads an empty line as empty context
        if kind == _BACKSLASH:
            if not line.startswith(b"\\ ") or len(line) < 11 or not seen:
                raise _fail(i + 1, "has a malformed '\\ No newline' line", line)
            if seen <= _KEPT:
                body[-1] = (body[-1][0], body[-1][1], True)
        elif kind == _SPACE or kind == _MINUS or kind == _PLUS:
            old -= kind != _PLUS
            new -= kind != _MINUS
            if old < 0 or new < 0:
                raise _fail(i + 1, "has a hunk longer than its header says", line)
            seen += 1
            if seen <= _KEPT:
                body.append((line[:1] or b" ", line[1:], False))
        else:
            raise _fail(i + 1, "has a line that is not part of a hunk", line)
        i += 1
    if i < len(lines) and lines[i].startswith(b"\\ ") and seen:
        if seen <= _KEPT:
            body[-1] = (body[-1][0], body[-1][1], True)
        i += 1
    return i, (int(match[1]), int(match[3]), body if seen <= _KEPT else None)


def _binary(lines: list[bytes], i: int) -> int:
    """Skip a `GIT binary patch` block (forward hunk, optional reverse hunk), checking each base85 line."""
    i += 1
    for required in (True, False):
        if i >= len(lines) or not _BINARY_HUNK.fullmatch(lines[i]):
            if required:
                raise _fail(i + 1, "has a binary patch without a literal or delta hunk")
            return i
        i += 1
        while i < len(lines) and lines[i]:
            line = lines[i]
            size = line[0] - 64 if 65 <= line[0] <= 90 else line[0] - 70 if 97 <= line[0] <= 122 else -1
            most = (len(line) - 1) // 5 * 4
            if len(line) < 6 or (len(line) - 1) % 5 or not most - 4 < size <= most or not _BASE85.fullmatch(line[1:]):
                raise _fail(i + 1, "has a corrupt binary hunk line", line)
            i += 1
        i += 1  # the blank line that ends the hunk
    return i


def _link_target(hunks: list[tuple[int, int, Body | None]]) -> bytes | None:
    """The whole new content when the hunks show it completely as one line without a newline (a link target)."""
    if len(hunks) != 1 or hunks[0][2] is None:
        return None
    old_start, new_start, body = hunks[0]
    assert body is not None
    before = [e for e in body if e[0] != b"+"]
    after = [e for e in body if e[0] != b"-"]
    whole_before = (not before and old_start == 0) or (len(before) == 1 and before[0][2] and old_start == 1)
    if len(after) == 1 and after[0][2] and new_start == 1 and whole_before:
        return after[0][1]
    return None


def _git_section(lines: list[bytes], i: int, on_name: NameCheck) -> tuple[int, FileChange]:
    start = i
    split = _split_diff_git(lines[i][len(b"diff --git "):], i + 1)
    raw = lines[i][len(b"diff --git "):]
    fields: dict[str, tuple[int, bytes]] = {}
    i += 1
    while i < len(lines):
        op = next(((prefix, name) for prefix, name in _HEADER_OPS if lines[i].startswith(prefix)), None)
        if op is None:
            break
        if op[1] in fields:
            raise _fail(i + 1, f"repeats the '{op[1]}' header", lines[i])
        fields[op[1]] = (i + 1, lines[i][len(op[0]):])
        i += 1

    modes: dict[str, str] = {}
    for key in ("old mode", "new mode", "deleted file mode", "new file mode"):
        if key in fields:
            if not _MODE.fullmatch(fields[key][1]):
                raise _fail(fields[key][0], f"has a malformed '{key}' line", fields[key][1])
            modes[key] = fields[key][1].decode()
    if "index" in fields:
        match = _INDEX.fullmatch(fields["index"][1])
        if not match:
            raise _fail(fields["index"][0], "has a malformed index line", fields["index"][1])
        if match[3]:
            modes["index"] = match[3].decode()
    for key in ("similarity", "dissimilarity"):
        if key in fields and not _PERCENT.fullmatch(fields[key][1]):
            raise _fail(fields[key][0], f"has a malformed {key} index line", fields[key][1])

    is_new, is_delete = "new file mode" in fields, "deleted file mode" in fields
    moves = [k for k in ("copy", "rename") if f"{k} from" in fields or f"{k} to" in fields]
    if len(moves) > 1 or (moves and (is_new or is_delete)) or (is_new and is_delete) or \
            ((is_new or is_delete) and ("old mode" in fields or "new mode" in fields)) or \
            (("old mode" in fields) != ("new mode" in fields)):
        raise _fail(start + 1, "starts a file section whose headers contradict each other")
    kind: ChangeKind = "add" if is_new else "delete" if is_delete else "modify"
    if moves:
        kind = "copy" if moves[0] == "copy" else "rename"
    if moves:
        src, dst = fields.get(f"{kind} from"), fields.get(f"{kind} to")
        if src is None or dst is None:
            raise _fail(start + 1, f"starts a {kind} without both its 'from' and 'to' lines")
        old, new = _name(src[1], src[0]), _name(dst[1], dst[0])
        on_name(old, "copies from" if kind == "copy" else "renames")
        on_name(new, "writes")
        if split is None and not _joins(raw, old, new):
            raise _fail(start + 1, f"has a diff --git line that does not match its {kind} lines", raw)
    else:
        if split is None:
            split = _same_twice(raw)
            if split is None:
                raise _fail(start + 1, "has a diff --git line whose file names cannot be told apart", raw)
        old = new = b""
    if split is not None:
        a_name, b_name = _strip(split[0], start + 1), _strip(split[1], start + 1)
        if moves and (a_name, b_name) != (old, new):
            raise _fail(start + 1, f"has a diff --git line that does not match its {kind} lines", raw)
        if not moves and a_name != b_name:
            raise _fail(start + 1, "has a diff --git line naming two different files without a rename", raw)
        on_name(a_name, "changes")
        on_name(b_name, "writes")
        old, new = a_name, b_name
    for key, null_ok in (("minus", is_new), ("plus", is_delete)):
        if key in fields:
            lineno, text = fields[key]
            if text == b"/dev/null":
                if not null_ok:
                    raise _fail(lineno, "names /dev/null for a file that is neither new nor deleted", text)
            elif null_ok or _name(text, lineno, strip=True, tab_ok=True) != (old if key == "minus" else new):
                raise _fail(lineno, "names a file that does not match its diff --git line", text)

    body: list[tuple[int, int, Body | None]] = []
    binary = False
    if i < len(lines) and lines[i].startswith(b"@@ -"):
        while i < len(lines) and lines[i].startswith(b"@@ -"):
            i, hunk = _hunk(lines, i)
            body.append(hunk)
    elif i < len(lines) and lines[i] == b"GIT binary patch":
        i, binary = _binary(lines, i), True
    elif i < len(lines) and lines[i].startswith(b"Binary files ") and lines[i].endswith(b" differ"):
        i, binary = i + 1, True
    result_mode = modes.get("new file mode") or modes.get("new mode") or (
        modes.get("index") if "old mode" not in modes and not is_delete else None)
    change = FileChange(kind, None if kind == "add" else old, None if kind == "delete" else new,
                        tuple(modes.values()), None if is_delete else result_mode,
                        None if binary else _link_target(body), binary)
    return i, change


def _traditional_section(lines: list[bytes], i: int, on_name: NameCheck) -> tuple[int, FileChange]:
    """A plain unified diff section (`--- a/x`, `+++ b/x`, hunks), which git also applies."""
    minus, plus = lines[i][4:], lines[i + 1][4:]
    old = None if minus == b"/dev/null" else _name(minus, i + 1, strip=True, exact=b"a/")
    new = None if plus == b"/dev/null" else _name(plus, i + 2, strip=True, exact=b"b/")
    for name, lineno in ((old, i + 1), (new, i + 2)):
        if name is not None:
            on_name(name, "changes")
        if name is not None and (b" " in name or b"\t" in name):
            raise _fail(lineno, "has a name with spaces outside a git header", lines[lineno - 1])
    if (old is None and new is None) or (old is not None and new is not None and old != new):
        raise _fail(i + 1, "has ---/+++ lines naming different files", lines[i])
    i += 2
    if i >= len(lines) or not lines[i].startswith(b"@@ -"):
        raise _fail(i + 1, "has ---/+++ lines without a hunk after them")
    body: list[tuple[int, int, Body | None]] = []
    while i < len(lines) and lines[i].startswith(b"@@ -"):
        i, hunk = _hunk(lines, i)
        body.append(hunk)
    kind: ChangeKind = "add" if old is None else "delete" if new is None else "modify"
    return i, FileChange(kind, old, new, link_target=_link_target(body))


def parse_patch(data: bytes, on_name: NameCheck = lambda name, verb: None) -> list[FileChange]:
    """Every file section of the patch DATA; raises UnsafePatch on anything git would read differently or skip.
    ON_NAME sees every path as it is read (so a bad path is reported as such, before any inconsistency)."""
    if not data.strip():
        raise UnsafePatch("the patch is empty")
    lines = (data if data.endswith(b"\n") else data + b"\n").split(b"\n")[:-1]
    changes: list[FileChange] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith(b"diff --git "):
            i, change = _git_section(lines, i, on_name)
        elif line.startswith(b"--- ") and i + 1 < len(lines) and lines[i + 1].startswith(b"+++ "):
            i, change = _traditional_section(lines, i, on_name)
        else:
            raise _fail(i + 1, "is not part of a file section git would read", line)
        changes.append(change)
    if not changes:
        raise UnsafePatch("the patch holds no file changes")
    return changes
