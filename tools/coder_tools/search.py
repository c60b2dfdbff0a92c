"""Search tool: grep, a .gitignore-aware regular-expression search over the repository's text files."""

from __future__ import annotations

import fnmatch
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import Field

from . import gitrun
from .base import MAX_FILE_BYTES, ToolArgs, ToolError, ToolResult, ToolSpec, Workspace, display, is_binary
from .timelimit import Progress, TimeLimitExceeded, WorkerDied, call_with_time_limit

MAX_RESULTS_CAP = 500
MAX_LINE_CHARS = 240  # longer matching lines are cut to a window around the match
_NO_PREFILTER = ("(?=", "(?!", "(?<", "\\A", "\\Z")  # constructs that behave differently on the whole text
TIME_LIMIT = 10.0  # seconds one grep call may spend matching before its search process is killed


class GrepArgs(ToolArgs):
    pattern: str = Field(
        min_length=1,
        description=(
            "Python regular expression matched against each line, e.g. 'def parse_\\w+' or 'class Config\\b'. "
            "Escape ( ) [ ] . * + ? with a backslash to match them literally."
        ),
    )
    path: str = Field(
        default=".", description="File or directory to search, relative to the repository root. Default: everything."
    )
    include: str | None = Field(
        default=None, description="Only search files whose name matches this glob, e.g. '*.py' or 'tests/*.py'."
    )
    ignore_case: bool = Field(default=False, description="Match upper and lower case alike.")
    max_results: int = Field(
        default=100, ge=1, description=f"Stop after this many matching lines (at most {MAX_RESULTS_CAP})."
    )


def _expand_braces(glob: str) -> list[str]:
    """'*.{py,pyi}' -> ['*.py', '*.pyi'] (models write shell-style globs)."""
    m = re.search(r"\{([^{}]*)\}", glob)
    if not m:
        return [glob]
    out: list[str] = []
    for alt in m.group(1).split(","):
        out.extend(_expand_braces(glob[: m.start()] + alt + glob[m.end() :]))
    return out


def _matcher(include: str | None) -> list[str]:
    globs: list[str] = []
    for part in _expand_braces(include.strip()) if include and include.strip() else []:
        globs.append(part)
        if part.startswith("**/"):
            globs.append(part[3:])
    return globs


def _included(rel: str, globs: list[str]) -> bool:
    if not globs:
        return True
    name = rel.rsplit("/", 1)[-1]
    return any(fnmatch.fnmatchcase(name, g) or fnmatch.fnmatchcase(rel, g) for g in globs)


def _walk(root: Path, start: Path) -> list[str]:
    """Fallback listing without git: every file under start, .git skipped, symlinked dirs not followed."""
    found: list[str] = []
    for dirpath, dirnames, filenames in os.walk(start):
        dirnames[:] = [d for d in dirnames if d != ".git"]
        rel_dir = os.path.relpath(dirpath, root).replace(os.sep, "/")
        prefix = "" if rel_dir == "." else rel_dir + "/"
        found.extend(prefix + name for name in filenames)
    return sorted(found)


def _git_files(root: Path, start: Path) -> list[str] | None:
    """Tracked and untracked-but-not-ignored files under start, or None when git cannot tell."""
    sub = start.relative_to(root).as_posix() if start != root else "."
    # Only a repository at the workspace root counts (never one above it, nor one an inherited GIT_DIR names), and
    # its config cannot run programs (gitrun's overrides).
    try:
        out = gitrun.run(root, "ls-files", "-co", "--exclude-standard", "-z", "--", sub, timeout=60)
    except gitrun.GitError:
        return None
    names = sorted({n for n in out.decode("utf-8", errors="surrogateescape").split("\0") if n})
    files: list[str] = []
    for name in names:
        full = root / name.rstrip("/")
        if full.is_dir() and not full.is_symlink():  # a nested repository or submodule: list it plainly
            files.extend(_walk(root, full))
        else:
            files.append(name)
    return files


def _candidates(ws: Workspace, start: Path) -> list[str]:
    if start.is_file():
        return [ws.rel(start)]
    listed = _git_files(ws.root, start)
    return listed if listed is not None else _walk(ws.root, start)


def _show(line: str, match: re.Match[str]) -> str:
    line = line.rstrip()
    if len(line) <= MAX_LINE_CHARS:
        return line
    lo = max(0, match.start() - MAX_LINE_CHARS // 3)
    hi = lo + MAX_LINE_CHARS
    return ("..." if lo else "") + line[lo:hi] + ("..." if hi < len(line) else "")


@dataclass
class _Found:
    results: list[str] = field(default_factory=list)
    files_hit: int = 0
    too_big: list[str] = field(default_factory=list)
    truncated: bool = False


def _scan(root: str, ws: Workspace, names: list[str], regex: re.Pattern[str], whole: re.Pattern[str] | None, cap: int,
          progress: Progress) -> _Found:
    """Match every line of the named files; runs in a child process the caller can kill."""
    found = _Found()
    for index, rel in enumerate(names):
        if found.truncated:
            break
        progress.set(index)
        full = os.path.join(root, rel)  # plain strings: pathlib costs more than the search itself here
        try:
            if os.path.islink(full):
                ws.resolve(rel)  # a link out of the repository is never followed
            info = os.stat(full)
            if not stat.S_ISREG(info.st_mode):
                continue
            if info.st_size > MAX_FILE_BYTES:
                found.too_big.append(rel)
                continue
            with open(full, "rb") as fh:
                data = fh.read()
        except (OSError, ToolError):
            continue
        if is_binary(data):
            continue
        text = data.decode("utf-8", errors="surrogateescape")
        if "\r\n" in text:
            text = text.replace("\r\n", "\n")
        if whole is not None and whole.search(text) is None:
            continue
        hit = False
        for lineno, line in enumerate(text.split("\n"), 1):
            m = regex.search(line)
            if m is None:
                continue
            if len(found.results) >= cap:
                found.truncated = True
                break
            hit = True
            found.results.append(f"{rel}:{lineno}: {_show(line, m)}")
        found.files_hit += hit
    return found


def _too_slow(pattern: str, exc: TimeLimitExceeded, names: list[str]) -> str:
    where = f" (it was searching {names[exc.progress]}, file {exc.progress + 1} of {len(names)})" if (
        0 <= exc.progress < len(names)) else ""
    return (
        f"grep stopped: the pattern '{pattern}' took longer than {exc.seconds:g} s{where}. Patterns with nested or "
        "adjacent quantifiers, such as (\\w+\\s?)+ or (a|a)*, can backtrack for ever on a line they almost match. "
        "Simplify it: never repeat a group that itself contains a repeat (write '(\\w+\\s?)+$' as '[\\w\\s]+$' or "
        "just '\\w+$'), search for a literal word or identifier, or narrow the search with path and include."
    )


def grep(args: GrepArgs, ws: Workspace) -> ToolResult:
    flags = re.IGNORECASE if args.ignore_case else 0
    try:
        regex = re.compile(args.pattern, flags)
        whole = re.compile(args.pattern, flags | re.MULTILINE)
    except re.error as exc:
        raise ToolError(f"invalid regular expression '{args.pattern}': {exc}") from exc
    prefilter = not any(tok in args.pattern for tok in _NO_PREFILTER)
    start = ws.resolve(args.path)
    if start.is_file():
        if start.stat().st_size > MAX_FILE_BYTES or is_binary(start.read_bytes()):
            raise ToolError(f"{ws.rel(start)} is binary or over {MAX_FILE_BYTES} bytes; grep only searches text files")
    cap = min(args.max_results, MAX_RESULTS_CAP)
    globs = _matcher(args.include)
    names = [rel for rel in _candidates(ws, start) if _included(rel, globs)]
    root = str(ws.root)
    try:
        found = call_with_time_limit(
            lambda progress: _scan(root, ws, names, regex, whole if prefilter else None, cap, progress), TIME_LIMIT
        )
    except TimeLimitExceeded as exc:
        raise ToolError(_too_slow(args.pattern, exc, names)) from None
    except WorkerDied as exc:
        raise ToolError(f"grep's search process died ({exc}); narrow the search with path or include") from None
    results, files_hit, too_big, truncated = found.results, found.files_hit, found.too_big, found.truncated
    where = ws.rel(start) + (f" (files matching {args.include})" if globs else "")
    if not results:
        lines = [f"No matches for '{args.pattern}' in {where}."]
    else:
        lines = [f"{len(results)} matching lines in {files_hit} files for '{args.pattern}' in {where}:", *results]
    if truncated:
        lines.append(
            f"[stopped after {cap} matches; narrow the search with path or include, or a more specific pattern]"
        )
    if too_big:
        names_shown = ", ".join(too_big[:5]) + (" ..." if len(too_big) > 5 else "")
        lines.append(f"[skipped {len(too_big)} files over {MAX_FILE_BYTES} bytes: {names_shown}]")
    summary = {"matches": len(results), "files": files_hit, "truncated": truncated}
    return ToolResult(ok=True, output=display("\n".join(lines)), data=summary)


TOOLS = [
    ToolSpec(
        "grep",
        "Search file contents with a Python regular expression, line by line. Prints 'path:line: text' "
        "(paths relative to the repository root, line numbers from 1). Skips files ignored by .gitignore, "
        "binary files and files over 2 MB. Narrow it with path (a directory or file) and include (a glob like '*.py').",
        GrepArgs,
        grep,
        read_only=True,
    ),
]
