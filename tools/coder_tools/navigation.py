"""Code navigation tools backed by tree-sitter tag queries: outline, find_definition, find_references."""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import Field

from .base import ToolArgs, ToolError, ToolResult, ToolSpec, Workspace
from .treesitter import ParseCache, ParsedFile, Tag, identifier_sites, parse_cache, source_files, supported_extensions

MAX_DEFINITIONS = 50
MAX_REFERENCES = 100
MAX_SUGGESTIONS = 10
LINE_CHARS = 200
LANGS_NOTE = "Python, JavaScript, TypeScript, Go, Rust, Java, C and C++ files"


class OutlineArgs(ToolArgs):
    path: str = Field(description="Source file to outline, relative to the repository root, e.g. 'src/app.py'.")


class FindDefinitionArgs(ToolArgs):
    symbol: str = Field(
        description="Name to look up, e.g. 'parse_config'; use 'Class.method' to pick a method of one class.",
        min_length=1,
    )
    path: str = Field(default=".", description="Directory or file to search; '.' (default) is the whole repository.")


class FindReferencesArgs(ToolArgs):
    symbol: str = Field(description="Name whose uses to find, e.g. 'parse_config' or 'Config'.", min_length=1)
    path: str = Field(default=".", description="Directory or file to search; '.' (default) is the whole repository.")


def _split_symbol(symbol: str) -> tuple[str, str | None]:
    """'pkg.Config.load()' -> ('load', 'Config'); tolerates a leading keyword like 'def' and trailing '()'."""
    words = symbol.split("(", 1)[0].split()
    text = words[-1] if words else ""
    parts = [p for p in re.split(r"\.|::|#", text) if p]
    if not parts or not re.fullmatch(r"[\w$~]+", parts[-1]):
        raise ToolError(f"symbol '{symbol}' is not a name; give an identifier like 'parse_config' or 'Config.load'")
    return parts[-1], parts[-2] if len(parts) > 1 else None


def _clip(text: str) -> str:
    text = text.strip()
    return text if len(text) <= LINE_CHARS else text[:LINE_CHARS] + " ..."


def _span(tag: Tag) -> str:
    return f"L{tag.line}" if tag.end_line == tag.line else f"L{tag.line}-{tag.end_line}"


def _load_all(ws: Workspace, path: str) -> tuple[Path, ParseCache, list[ParsedFile]]:
    """Cached entries for every supported file at or under path; a single named file must be supported."""
    target = ws.resolve(path)
    cache = parse_cache(ws)
    if target.is_file():
        return target, cache, [cache.load(target, ws)]
    entries: list[ParsedFile] = []
    for file in source_files(ws, target):
        try:
            entries.append(cache.load(file, ws))
        except ToolError:
            continue  # binary, huge or unreadable files are skipped in a directory search
    if not entries:
        raise ToolError(
            f"no supported source files under '{ws.rel(target)}' ({LANGS_NOTE}: {supported_extensions()}); use grep instead"
        )
    return target, cache, entries


def outline(args: OutlineArgs, ws: Workspace) -> ToolResult:
    target = ws.resolve(args.path)
    if target.is_dir():
        raise ToolError(f"'{ws.rel(target)}' is a directory; outline takes one file (list files with bash 'ls')")
    cache = parse_cache(ws)
    pf = cache.load(target, ws)
    defs = [t for t in cache.tags(pf) if t.is_definition]
    rel = ws.rel(target)
    if not defs:
        return ToolResult(ok=True, output=f"{rel}: no classes or functions found.", data={"path": rel, "symbols": []})
    lines = [f"{rel}: {len(defs)} symbols ({pf.lang})"]
    for tag in defs:
        name = pf.qualified(tag) if tag.owner else tag.name
        span = _span(tag)
        lines.append(f"{'  ' * tag.depth}{tag.kind} {name}  {span}")
    symbols = [
        {"name": t.name, "kind": t.kind, "line": t.line, "end_line": t.end_line, "depth": t.depth, "container": t.container}
        for t in defs
    ]
    return ToolResult(ok=True, output="\n".join(lines), data={"path": rel, "symbols": symbols})


def _suggestions(cache: ParseCache, entries: list[ParsedFile], name: str) -> list[str]:
    """Defined names that contain the symbol or match it ignoring case, from files that mention it."""
    needle = name.lower().encode("utf-8")
    found: dict[str, None] = {}
    for pf in entries:
        if needle not in pf.source.lower():
            continue
        for tag in cache.tags(pf):
            if tag.is_definition and name.lower() in tag.name.lower():
                found[pf.qualified(tag)] = None
            if len(found) >= MAX_SUGGESTIONS:
                return list(found)
    return list(found)


def find_definition(args: FindDefinitionArgs, ws: Workspace) -> ToolResult:
    name, owner = _split_symbol(args.symbol)
    target, cache, entries = _load_all(ws, args.path)
    needle = name.encode("utf-8")
    hits: list[tuple[ParsedFile, Tag]] = []
    for pf in entries:
        if needle not in pf.source:
            continue  # cheap prefilter: no parse for files that never spell the name
        for tag in cache.tags(pf):
            if tag.is_definition and tag.name == name and (owner is None or tag.container == owner):
                hits.append((pf, tag))
    where = ws.rel(target)
    if not hits:
        msg = f"No definition of '{args.symbol.strip()}' found in {len(entries)} source files under '{where}'."
        similar = _suggestions(cache, entries, name)
        if similar:
            msg += " Similar names: " + ", ".join(similar)
        else:
            msg += " It may come from a library or be built dynamically; try grep or find_references."
        return ToolResult(ok=True, output=msg, data={"definitions": []})
    out = [f"{len(hits)} definition{'s' if len(hits) != 1 else ''} of '{args.symbol.strip()}':"]
    data = []
    for pf, tag in hits[:MAX_DEFINITIONS]:
        rel = ws.rel(pf.path)
        out.append(f"{rel}:{tag.line} {tag.kind} {pf.qualified(tag)}  ({_span(tag)})")
        out.append(f"    {_clip(pf.line(tag.line))}")
        data.append({"path": rel, "line": tag.line, "end_line": tag.end_line, "kind": tag.kind, "name": pf.qualified(tag)})
    if len(hits) > MAX_DEFINITIONS:
        out.append(f"[{len(hits) - MAX_DEFINITIONS} more not shown; narrow with path or 'Class.method']")
    return ToolResult(ok=True, output="\n".join(out), data={"definitions": data})


def find_references(args: FindReferencesArgs, ws: Workspace) -> ToolResult:
    name, _ = _split_symbol(args.symbol)
    target, cache, entries = _load_all(ws, args.path)
    needle = name.encode("utf-8")
    calls: dict[tuple[str, int], str] = {}
    others: dict[tuple[str, int], str] = {}
    for pf in entries:
        if needle not in pf.source:
            continue
        tags = cache.tags(pf)
        rel = ws.rel(pf.path)
        def_bytes = {t.name_byte for t in tags if t.is_definition and t.name == name}
        for tag in tags:
            if not tag.is_definition and tag.name == name and tag.kind == "call":
                calls[(rel, tag.line)] = pf.line(tag.line)
        for node in identifier_sites(cache.tree(pf), pf.source, name):
            key = (rel, node.start_point.row + 1)
            if node.start_byte not in def_bytes and key not in calls:
                others[key] = pf.line(key[1])
    files = {rel for rel, _ in (*calls, *others)}
    total = len(calls) + len(others)
    if total == 0:
        return ToolResult(
            ok=True,
            output=f"No uses of '{name}' found in {len(entries)} source files under '{ws.rel(target)}' "
            "(definitions, strings and comments are not counted).",
            data={"references": [], "total": 0},
        )
    out = [f"{total} line{'s' if total != 1 else ''} using '{name}' in {len(files)} file{'s' if len(files) != 1 else ''}:"]
    data: list[dict[str, object]] = []
    budget = MAX_REFERENCES
    for title, group, kind in (("calls:", calls, "call"), ("other uses:", others, "use")):
        shown = sorted(group)[:budget]
        if not shown:
            continue
        out.append(title)
        for rel, line in shown:
            out.append(f"{rel}:{line}: {_clip(group[(rel, line)])}")
            data.append({"path": rel, "line": line, "kind": kind})
        budget -= len(shown)
    if total > MAX_REFERENCES:
        out.append(f"[{total - MAX_REFERENCES} more not shown; narrow the search with path]")
    return ToolResult(ok=True, output="\n".join(out), data={"references": data, "total": total})


TOOLS = [
    ToolSpec(
        "outline",
        f"List the classes, functions, methods and types in one source file with their line ranges, nested by "
        f"containment. Cheaper than viewing the whole file. Works on {LANGS_NOTE}.",
        OutlineArgs,
        outline,
        read_only=True,
    ),
    ToolSpec(
        "find_definition",
        "Find where a function, class, method or type is defined. Returns 'path:line kind name' and the "
        "definition's first line for each match.",
        FindDefinitionArgs,
        find_definition,
        read_only=True,
    ),
    ToolSpec(
        "find_references",
        "Find where a name is used: call sites first, then other uses, as 'path:line: text'. Definitions, "
        "strings and comments are skipped. 'Class.method' matches any 'method' (receivers are not resolved).",
        FindReferencesArgs,
        find_references,
        read_only=True,
    ),
]
