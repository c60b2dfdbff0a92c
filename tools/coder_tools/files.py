"""view_file (numbered windows, directory listings) and the line helpers the edit tool shares."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from .base import ToolArgs, ToolError, ToolResult, ToolSpec, Workspace, display, read_text

VIEW_WINDOW = 200  # lines shown when no end_line is given
MAX_LINE_CHARS = 2000  # longer lines are cut in listings
MAX_DIR_ENTRIES = 300
SNIPPET_CONTEXT = 3
MAX_SNIPPET_LINES = 40


class ViewFileArgs(ToolArgs):
    path: str = Field(description="File or directory path relative to the repository root, e.g. 'src/pkg/module.py'.")
    start_line: int | None = Field(default=None, ge=1, description="First line to show (1-based). Default: 1.")
    end_line: int | None = Field(
        default=None,
        ge=-1,
        description=f"Last line to show (inclusive); -1 = end of file. Default: start_line + {VIEW_WINDOW - 1}.",
    )


def split_lines(text: str) -> list[str]:
    """Split on '\\n' keeping line ends (unlike str.splitlines, form feeds and the like do not end lines)."""
    if not text:
        return []
    parts = text.split("\n")
    lines = [p + "\n" for p in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    return lines


def _number(n: int, line: str, width: int) -> str:
    body = line[:-1] if line.endswith("\n") else line
    body = body[:-1] if body.endswith("\r") else body
    if len(body) > MAX_LINE_CHARS:
        body = f"{body[:MAX_LINE_CHARS]} [... {len(body) - MAX_LINE_CHARS} more characters]"
    return f"{n:>{width}}\t{body}"


def numbered(lines: list[str], first: int) -> str:
    """Lines as 'NUMBER<TAB>text', numbers right-aligned starting at first."""
    width = max(4, len(str(first + len(lines) - 1)))
    return "\n".join(_number(i, line, width) for i, line in enumerate(lines, first))


def snippet(text: str, first: int, last: int) -> str:
    """Numbered lines first..last of text with a little context, capped in length."""
    lines = split_lines(text)
    if not lines:
        return "(the file is now empty)"
    lo = max(1, first - SNIPPET_CONTEXT)
    hi = min(len(lines), max(last, first) + SNIPPET_CONTEXT)
    more = ""
    if hi - lo + 1 > MAX_SNIPPET_LINES:
        hi = lo + MAX_SNIPPET_LINES - 1
        more = "\n[... snippet cut; use view_file to see the rest]"
    return numbered(lines[lo - 1 : hi], lo) + more


def _list_dir(path: Path, ws: Workspace) -> ToolResult:
    entries = sorted(path.iterdir(), key=lambda p: p.name)
    dirs = [display(p.name) + "/" for p in entries if p.is_dir() and p.name != ".git"]
    files = [display(p.name) for p in entries if not p.is_dir()]
    names = dirs + files
    rel = ws.rel(path)
    shown = names[:MAX_DIR_ENTRIES]
    title = "Repository root" if rel == "." else f"Directory {rel}/"
    lines = [f"{title} ({len(dirs)} directories, {len(files)} files):", *(shown or ["(empty)"])]
    if len(names) > len(shown):
        lines.append(f"[... {len(names) - len(shown)} more entries; use bash (ls, find) or grep to narrow down]")
    return ToolResult(ok=True, output="\n".join(lines), data={"path": rel, "entries": shown})


def view_file(args: ViewFileArgs, ws: Workspace) -> ToolResult:
    path = ws.resolve(args.path)
    if path.is_dir():
        return _list_dir(path, ws)
    text = read_text(path, ws)
    rel = ws.rel(path)
    lines = split_lines(text)
    total = len(lines)
    if total == 0:
        return ToolResult(ok=True, output=f"{rel} is empty (0 lines).", data={"path": rel, "total_lines": 0})
    start = args.start_line or 1
    if start > total:
        raise ToolError(f"start_line {start} is past the end of {rel}, which has {total} lines")
    end = {None: start + VIEW_WINDOW - 1, -1: total}.get(args.end_line, args.end_line or 0)
    if end < start:
        raise ToolError(f"end_line {args.end_line} is before start_line {start} (use -1 for the end of the file)")
    end = min(end, total)
    width = max(4, len(str(end)))
    budget = max(1000, ws.options.output_cap - 400)  # stop early rather than let the output be elided
    out: list[str] = []
    used = 0
    for n in range(start, end + 1):
        row = _number(n, lines[n - 1], width)
        if out and used + len(row) + 1 > budget:
            end = n - 1
            break
        out.append(row)
        used += len(row) + 1
    header = f"{rel} (lines {start}-{end} of {total}):"
    more = f"to see more, call view_file with start_line={end + 1}" if end < total else "end of file"
    footer = f"[lines {start}-{end} of {total}; {more}]"
    data = {"path": rel, "start_line": start, "end_line": end, "total_lines": total}
    return ToolResult(ok=True, output=display("\n".join([header, *out, footer])), data=data)


TOOLS = [
    ToolSpec(
        "view_file",
        "Show a file with line numbers, 200 lines at a time (use start_line/end_line for other parts), "
        "or list a directory. Paths are relative to the repository root.",
        ViewFileArgs,
        view_file,
        read_only=True,
    ),
]
