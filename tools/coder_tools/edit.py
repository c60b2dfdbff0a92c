"""edit_file: replace, insert, create and undo, with a diff, a syntax note and per-file undo history."""

from __future__ import annotations

import ast
import difflib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from .base import ToolArgs, ToolError, ToolResult, ToolSpec, Workspace, display, read_text, write_text
from .files import MAX_SNIPPET_LINES, numbered, snippet, split_lines
from .paths import check_writable
from .risk import edit_risk

HISTORY_DEPTH = 20  # undo steps kept per file
MATCH_SCAN_LINES = 20_000  # closest-match search gives up on longer files
HISTORY_KEY = "edit_history"


_NEEDS: dict[str, tuple[str, ...]] = {
    "replace": ("old", "new"), "insert": ("line", "new"), "create": ("new",), "undo": ()
}
_USAGE = {
    "replace": "replace needs old (exact current text, must occur once) and new (its replacement)",
    "insert": "insert needs line (insert after this line number; 0 = top of file) and new (the lines to insert)",
    "create": "create needs new (the whole content of the new file)",
    "undo": "undo needs only path",
}


class EditFileArgs(ToolArgs):
    path: str = Field(description="File path relative to the repository root, e.g. 'src/pkg/module.py'.")
    command: Literal["replace", "insert", "create", "undo"] = Field(
        description=(
            "'replace': change the exact text old into new. 'insert': add new after line number line. "
            "'create': make a new file containing new. 'undo': revert your last edit to this file."
        )
    )
    old: str | None = Field(
        default=None,
        description=(
            "replace only: the exact text now in the file, with its indentation, WITHOUT line numbers; "
            "it must occur exactly once, so include a few surrounding lines if needed."
        ),
    )
    new: str | None = Field(default=None, description="replace, insert, create: the new text (may be several lines).")
    line: int | None = Field(
        default=None, ge=0, description="insert only: the line number to insert after; 0 inserts at the top."
    )

    @model_validator(mode="after")
    def _check_fields(self) -> EditFileArgs:
        needs = _NEEDS[self.command]
        missing = [name for name in needs if getattr(self, name) is None]
        if missing:
            raise ValueError(f"command '{self.command}' is missing {' and '.join(missing)}; {_USAGE[self.command]}")
        unused = [n for n in ("old", "new", "line") if n not in needs and getattr(self, n) not in (None, "")]
        if unused:
            raise ValueError(f"command '{self.command}' does not use {' or '.join(unused)}; {_USAGE[self.command]}")
        if self.command == "replace" and self.old == "":
            raise ValueError("old must not be empty; to add lines without replacing any, use command 'insert'")
        if self.command == "insert" and self.new == "":
            raise ValueError("new must not be empty for insert")
        return self


@dataclass
class _Snapshot:
    """One undo step: the bytes before an edit (None: the file did not exist) and the bytes it wrote."""

    before: bytes | None
    after: bytes
    created_dirs: list[Path] = field(default_factory=list)


def _eol(text: str) -> str:
    return "\r\n" if text.count("\r\n") * 2 > text.count("\n") else "\n"


def _to_eol(s: str, eol: str) -> str:
    return s.replace("\n", "\r\n") if eol == "\r\n" and "\r" not in s else s


def _find_all(text: str, sub: str, limit: int = 50) -> list[int]:
    """Start offsets of sub in text, overlapping matches included."""
    found: list[int] = []
    pos = text.find(sub)
    while pos != -1 and len(found) < limit:
        found.append(pos)
        pos = text.find(sub, pos + 1)
    return found


def _closest(text: str, old: str) -> str:
    """A hint showing where old nearly matches: same lines with other whitespace, else the most similar window."""
    lines = split_lines(text)
    want = [ln.strip() for ln in old.strip("\r\n").split("\n")]
    if not lines or not any(want) or len(lines) > MATCH_SCAN_LINES:
        return ""
    have = [ln.strip() for ln in lines]
    k = len(want)
    for i in range(len(lines) - k + 1):
        if have[i] == want[0] and have[i : i + k] == want:
            return (
                f"The same lines exist with different indentation or whitespace at lines {i + 1}-{i + k}:\n"
                + numbered(lines[i : i + k], i + 1)
            )
    anchor = next(w for w in want if w)
    offset = want.index(anchor)
    matcher = difflib.SequenceMatcher(autojunk=False)
    matcher.set_seq2(anchor)
    scored: list[tuple[float, int]] = []
    for i, candidate in enumerate(have):
        matcher.set_seq1(candidate)
        if matcher.real_quick_ratio() >= 0.6 and matcher.quick_ratio() >= 0.6 and (r := matcher.ratio()) >= 0.6:
            scored.append((r, i))
    best: tuple[float, int] | None = None
    joined = "\n".join(want)
    for _, i in sorted(scored, reverse=True)[:5]:
        s = max(0, i - offset)
        r = difflib.SequenceMatcher(None, "\n".join(have[s : s + k]), joined).ratio()
        if best is None or r > best[0]:
            best = (r, s)
    if best is None:
        return ""
    s = best[1]
    window = lines[s : min(s + k, s + MAX_SNIPPET_LINES)]
    return f"The most similar text is at lines {s + 1}-{s + len(window)}:\n" + numbered(window, s + 1)


def _syntax_note(rel: str, text: str) -> str:
    if not rel.endswith(".py"):
        return ""
    try:
        ast.parse(text)
    except SyntaxError as exc:
        return f"\nWarning: {rel} now has a Python syntax error at line {exc.lineno}: {exc.msg}. Fix it or undo."
    except Exception:  # undecodable bytes, too deep nesting: not our concern here
        return ""
    return ""


def _diff(rel: str, before: str | None, after: str | None) -> str:
    """Unified diff with git-style a/ b/ headers (/dev/null for a created or deleted file)."""
    a = split_lines(display(before)) if before is not None else []
    b = split_lines(display(after)) if after is not None else []
    old_name = f"a/{rel}" if before is not None else "/dev/null"
    new_name = f"b/{rel}" if after is not None else "/dev/null"
    out = []
    for line in difflib.unified_diff(a, b, old_name, new_name):
        out.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
    return "".join(out)


def _history(ws: Workspace) -> dict[str, list[_Snapshot]]:
    history: dict[str, list[_Snapshot]] = ws.state.setdefault(HISTORY_KEY, {})
    return history


def _commit(
    ws: Workspace, path: Path, before: str | None, after: str, message: str, region: tuple[int, int],
    created_dirs: list[Path] | None = None,
) -> ToolResult:
    """Write the new text, remember the undo step, and describe the result."""
    rel = ws.rel(path)
    write_text(path, after)
    raw_before = before.encode("utf-8", errors="surrogateescape") if before is not None else None
    stack = _history(ws).setdefault(rel, [])
    stack.append(_Snapshot(raw_before, path.read_bytes(), created_dirs or []))
    del stack[:-HISTORY_DEPTH]
    shown = snippet(after, *region)
    output = f"{message}\n{shown}{_syntax_note(rel, after)}\nCheck the lines above; use command 'undo' to revert."
    return ToolResult(ok=True, output=display(output), data={"path": rel, "diff": _diff(rel, before, after)})


def _last_line(first: int, chunk: str) -> int:
    """The line a chunk of text starting on line first ends on."""
    return first + max(0, chunk.count("\n") - (1 if chunk.endswith("\n") else 0))


def _span(first: int, last: int) -> str:
    return f"line {first}" if first == last else f"lines {first}-{last}"


def _replace(args: EditFileArgs, ws: Workspace) -> ToolResult:
    assert args.old is not None and args.new is not None
    path = ws.resolve(args.path)
    text = read_text(path, ws)
    rel = ws.rel(path)
    old, new = args.old, args.new
    positions = _find_all(text, old)
    if not positions and _eol(text) == "\r\n" and _to_eol(old, "\r\n") != old:
        old, new = _to_eol(old, "\r\n"), _to_eol(new, "\r\n")
        positions = _find_all(text, old)
    if not positions:
        hint = _closest(text, old)
        raise ToolError(
            f"old text not found in {rel}; it must match the file exactly (indentation and blank lines too) "
            "and must not include line numbers." + (f"\n{hint}" if hint else "\nUse view_file to see the current text.")
        )
    if len(positions) > 1:
        at = ", ".join(str(text.count("\n", 0, p) + 1) for p in positions)
        raise ToolError(
            f"old text occurs {len(positions)} times in {rel} (starting at lines {at}); "
            "include more surrounding lines in old so it matches exactly once"
        )
    if old == new:
        raise ToolError("old and new are identical; nothing to change")
    pos = positions[0]
    after = text[:pos] + new + text[pos + len(old) :]
    first = text.count("\n", 0, pos) + 1
    last = _last_line(first, new)
    msg = f"Edited {rel}: replaced {_span(first, _last_line(first, old))}; the new text is at {_span(first, last)}."
    return _commit(ws, path, text, after, msg, (first, last))


def _insert(args: EditFileArgs, ws: Workspace) -> ToolResult:
    assert args.new is not None and args.line is not None
    path = ws.resolve(args.path)
    text = read_text(path, ws)
    rel = ws.rel(path)
    lines = split_lines(text)
    if args.line > len(lines):
        raise ToolError(
            f"line {args.line} is past the end of {rel}, which has {len(lines)} lines; use line={len(lines)} to append"
        )
    eol = _eol(text) if text else "\n"
    block = _to_eol(args.new, eol)
    if not block.endswith("\n"):
        block += eol
    if args.line == len(lines) and lines and not lines[-1].endswith("\n"):
        lines[-1] += eol
    after = "".join(lines[: args.line]) + block + "".join(lines[args.line :])
    first, last = args.line + 1, args.line + block.count("\n")
    return _commit(ws, path, text, after, f"Edited {rel}: inserted {_span(first, last)}.", (first, last))


def _create(args: EditFileArgs, ws: Workspace) -> ToolResult:
    assert args.new is not None
    path = ws.resolve(args.path, must_exist=False)
    rel = ws.rel(path)
    if path.is_dir():
        raise ToolError(f"{rel} is a directory")
    if path.exists():
        raise ToolError(f"{rel} already exists; use command 'replace' or 'insert' to change it (view_file shows it)")
    created = []
    parent = path.parent
    while not parent.exists():
        created.append(parent)
        parent = parent.parent
    n = len(split_lines(args.new))
    return _commit(ws, path, None, args.new, f"Created {rel} ({n} lines).", (1, min(n, MAX_SNIPPET_LINES)), created)


def _undo(args: EditFileArgs, ws: Workspace) -> ToolResult:
    path = ws.resolve(args.path, must_exist=False)
    rel = ws.rel(path)
    stack = _history(ws).get(rel)
    if not stack:
        raise ToolError(
            f"nothing to undo for {rel}: undo only reverts changes made with edit_file (use bash and git for others)"
        )
    snap = stack.pop()
    current = path.read_bytes() if path.is_file() else None
    note = "" if current == snap.after else "\nNote: the file had changed since that edit; those changes are gone too."
    now = current.decode("utf-8", errors="surrogateescape") if current is not None else None
    if snap.before is None:
        if path.is_file():
            path.unlink()
        for d in snap.created_dirs:  # deepest first
            try:
                d.rmdir()
            except OSError:
                break
        output = f"Undid the creation of {rel}; the file is deleted.{note}"
        return ToolResult(ok=True, output=output, data={"path": rel, "diff": _diff(rel, now, None)})
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(snap.before)
    restored = snap.before.decode("utf-8", errors="surrogateescape")
    first = last = 1
    if now is not None:
        matcher = difflib.SequenceMatcher(None, split_lines(now), split_lines(restored))
        ops = [op for op in matcher.get_opcodes() if op[0] != "equal"]
        if ops:
            first, last = ops[0][3] + 1, max(ops[-1][4], ops[0][3] + 1)
    output = f"Undid the last edit to {rel}.{note}\n{snippet(restored, first, last)}"
    return ToolResult(ok=True, output=display(output), data={"path": rel, "diff": _diff(rel, now, restored)})


def edit_file(args: EditFileArgs, ws: Workspace) -> ToolResult:
    check_writable(args.path, ws)
    handlers = {"replace": _replace, "insert": _insert, "create": _create, "undo": _undo}
    return handlers[args.command](args, ws)


TOOLS = [
    ToolSpec(
        "edit_file",
        "Edit a file (path relative to the repository root). command='replace': change the exact text old "
        "(must occur exactly once; no line numbers) into new. command='insert': add new after line number line "
        "(0 = top). command='create': make a new file containing new. command='undo': revert your last edit to "
        "the file. Shows the edited lines with line numbers.",
        EditFileArgs,
        edit_file,
        changes_workspace="on_success",
        risk=edit_risk,
        reports="edit",
    ),
]
