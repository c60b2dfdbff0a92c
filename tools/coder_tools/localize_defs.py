"""Function definitions for localize: tree-sitter line ranges per file, test-file detection, and site-to-function maps."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote

from . import risk
from .base import ToolError, Workspace
from .localize_rank import Func
from .treesitter import ParsedFile, language_for, parse_cache, source_files

FUNCTION_KINDS = frozenset({"function", "method"})
DECORATOR_REACH = 30  # lines a Python code object's first line (its first decorator) may sit above the `def`


def is_test_path(rel: str, test_files: frozenset[str] = frozenset()) -> bool:
    """Whether a repository path is test code: a file the runner reported tests in, or a test file by its name or
    folder (the one rule the tool loop's test guard uses too: risk.is_test_path)."""
    return rel in test_files or risk.is_test_path(rel)


class Defs:
    """Function and method definitions per repository file, parsed once (through the workspace's warm cache)."""

    def __init__(self, ws: Workspace, test_files: frozenset[str] = frozenset()) -> None:
        self.ws = ws
        self.test_files = test_files
        self._funcs: dict[str, list[Func]] = {}
        self._parsed: dict[str, ParsedFile | None] = {}

    def parsed(self, rel: str) -> ParsedFile | None:
        if rel not in self._parsed:
            pf: ParsedFile | None = None
            try:
                path = self.ws.resolve(rel)
                if path.is_file() and language_for(path) is not None:
                    pf = parse_cache(self.ws).load(path, self.ws)
            except (ToolError, OSError):
                pf = None
            self._parsed[rel] = pf
        return self._parsed[rel]

    def functions(self, rel: str) -> list[Func]:
        """The file's function/method definitions (empty for test files and unsupported or unreadable files)."""
        if rel not in self._funcs:
            pf = None if is_test_path(rel, self.test_files) else self.parsed(rel)
            funcs: list[Func] = []
            if pf is not None:
                cache = parse_cache(self.ws)
                for tag in cache.tags(pf):
                    if tag.is_definition and tag.kind in FUNCTION_KINDS:
                        funcs.append(Func(rel, tag.line, tag.end_line, pf.qualified(tag)))
            self._funcs[rel] = funcs
        return self._funcs[rel]

    def at(self, rel: str, line: int, name: str | None = None) -> Func | None:
        """The function a site belongs to: a definition called `name` starting at or just below LINE (Python code
        objects start at their first decorator), else the innermost definition whose lines contain LINE."""
        funcs = self.functions(rel)
        if name:
            short = name.rsplit(".", 1)[-1]
            named = [f for f in funcs if f.short == short and 0 <= f.start_line - line <= DECORATOR_REACH]
            if named:
                return min(named, key=lambda f: f.start_line - line)
        inside = [f for f in funcs if f.start_line <= line <= f.end_line]
        return min(inside, key=lambda f: (f.end_line - f.start_line, -f.start_line)) if inside else None

    def body(self, func: Func) -> str:
        pf = self.parsed(func.path)
        if pf is None:
            return ""
        return "\n".join(pf.line(n) for n in range(func.start_line, func.end_line + 1))

    def all_functions(self, limit_files: int = 2000) -> list[Func]:
        """Every function of the repository's non-test source files (git's file list, else a walk)."""
        out: list[Func] = []
        for path in source_files(self.ws, self.ws.root)[:limit_files]:
            out.extend(self.functions(self.ws.rel(path)))
        return out

    def named(self, words: list[str], limit_files: int = 2000) -> set[Func]:
        """Definitions whose name an issue word spells (any case, with or without underscores)."""
        keys = {w.replace("_", "").lower() for w in words} | {w.rsplit(".", 1)[-1].replace("_", "").lower()
                                                               for w in words}
        return {f for f in self.all_functions(limit_files) if f.short.replace("_", "").lower() in keys}


def relative(ws: Workspace, filename: str) -> str | None:
    """A path a runner reported (absolute, file:// URL or relative) as a repository path, or None when outside."""
    if filename.startswith("file://"):
        filename = unquote(filename[len("file://"):])
    path = Path(filename)
    if not path.is_absolute():
        path = ws.root / path
    try:
        return path.resolve().relative_to(ws.root).as_posix()
    except (ValueError, OSError):
        return None
