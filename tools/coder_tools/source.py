"""definition_source: the exact source text of a named function, method or class in one file (for coder's strategies)."""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import Field
from tree_sitter import Node

from .base import ToolArgs, ToolError, ToolResult, ToolSpec, Workspace
from .navigation import _split_symbol
from .paths import refused_prefix
from .rewrite_defs import ATTRIBUTE_TYPES, SIGNATURE_TYPES, expand
from .treesitter import ParseCache, ParsedFile, Tag, parse_cache

MAX_NAMES = 10  # definition names listed when nothing matches


class DefinitionSourceArgs(ToolArgs):
    path: str = Field(description="Source file relative to the repository root, e.g. 'src/calc.py'.")
    name: str = Field(
        description="Function, method or class name: 'add', 'Calc.add', 'Calc::add', or a test id such as "
        "'test_add', 'TestCalc::test_add' or 'tests/test_calc.py::TestCalc::test_add[1-2]'.",
        min_length=1,
    )
    limit: int = Field(default=3, ge=1, le=10, description="Most definitions to return.")


def _split_name(name: str) -> tuple[str, str | None]:
    """A name or test id as (name, innermost qualifier): drops a pytest file part, parameters '[...]' and a Go
    subtest '/case'; then navigation's rules ('Class.method', 'Type::method', trailing '()'). The qualifier is ''
    for a test id of a module-level test ('tests/test_calc.py::test_add'): only a definition outside any class."""
    text = re.sub(r"\[.*\]\s*$", "", name.strip())  # pytest parameters: test_add[1-2]
    in_file = False
    if "::" in text:
        parts = text.split("::")
        while len(parts) > 1 and ("/" in parts[0] or re.search(r"\.\w+$", parts[0])):
            parts, in_file = parts[1:], True  # 'tests/test_calc.py::' (a file, not a scope)
        text = "::".join(parts)
    text = text.split("/", 1)[0]  # Go subtests: TestAdd/case_1
    short, owner = _split_symbol(text)
    return short, "" if owner is None and in_file else owner


def _node(pf: ParsedFile, tag: Tag, cache: ParseCache) -> Node | None:
    """The node of a tag's whole definition."""
    root = cache.tree(pf).root_node
    node: Node | None = root.descendant_for_byte_range(*tag.span)
    while node is not None and (node.start_byte, node.end_byte) != tag.span:
        node = node.parent
    return node


def _start(node: Node, source: bytes) -> int:
    """Where a definition's text starts: its wrappers (Python decorators, export, template<...>) and attributes
    directly above it (Rust #[...], member decorators) included; comments are not."""
    outer, _ = expand(node)
    start, current = outer.start_byte, outer
    sib = outer.prev_named_sibling
    while sib is not None and sib.type in ATTRIBUTE_TYPES:
        gap = source[sib.end_byte : current.start_byte]
        if gap.strip() or gap.count(b"\n") > 1:
            break
        start, current, sib = sib.start_byte, sib, sib.prev_named_sibling
    return start


def _names(pf: ParsedFile, cache: ParseCache) -> list[str]:
    """Up to MAX_NAMES qualified names of the file's definitions (functions and classes first)."""
    defs = [t for t in cache.tags(pf) if t.is_definition]
    ordered = [t for t in defs if t.kind != "variable"] + [t for t in defs if t.kind == "variable"]
    return list(dict.fromkeys(pf.qualified(t) for t in ordered))[:MAX_NAMES]


def source_file(given: str, ws: Workspace, tool: str) -> Path:
    """A model- or host-given path resolved to one file of the repository's source (never inside git's own
    directory); ToolError otherwise."""
    target = ws.resolve(given)
    rel = ws.rel(target)
    for candidate in (rel, given.strip().replace("\\", "/")):
        parts = [p for p in candidate.split("/") if p not in ("", ".")]
        prefix = refused_prefix("/".join(parts)) if parts else None
        if prefix is not None and ".." not in prefix.split("/"):
            raise ToolError(f"'{given}' is inside git's own '{prefix}' directory, not the repository's source")
    if target.is_dir():
        raise ToolError(f"'{rel}' is a directory; {tool} takes one file")
    return target


def definition_source(args: DefinitionSourceArgs, ws: Workspace) -> ToolResult:
    target = source_file(args.path, ws, "definition_source")
    rel = ws.rel(target)
    name, owner = _split_name(args.name)
    cache = parse_cache(ws)
    pf = cache.load(target, ws)
    hits: list[tuple[Tag, Node]] = []
    for tag in cache.tags(pf):
        if tag.is_definition and tag.name == name and (owner is None or tag.container == (owner or None)):
            node = _node(pf, tag, cache)
            if node is not None:
                hits.append((tag, node))
    bodies = [h for h in hits if h[1].type not in SIGNATURE_TYPES]
    hits = bodies or hits  # a declaration without a body only when nothing else matches
    if not hits:
        names = _names(pf, cache)
        listed = "; it defines: " + ", ".join(names) if names else "; it defines no functions or classes"
        return ToolResult(
            ok=False,
            output=f"no definition of '{args.name.strip()}' in {rel}{listed}",
            data={"matches": [], "names": names},
        )
    lines = pf.source.split(b"\n")
    out: list[str] = []
    matches: list[dict[str, object]] = []
    for tag, node in hits[: args.limit]:
        start_line = pf.source.count(b"\n", 0, _start(node, pf.source)) + 1
        end_line = tag.end_line
        raw = b"\n".join(lines[start_line - 1 : end_line])
        raw = raw[:-1] if raw.endswith(b"\r") else raw  # the last line's CRLF ending is not part of the text
        text = raw.decode("utf-8", errors="surrogateescape")  # as read_text: undecodable bytes survive
        qualified = pf.qualified(tag)
        out.append(f"{rel}:{start_line}-{end_line} {qualified}\n{text}")
        matches.append({"path": rel, "name": qualified, "kind": tag.kind, "start_line": start_line,
                        "end_line": end_line, "text": text})  # fmt: skip
    if len(hits) > args.limit:
        out.append(f"[{len(hits) - args.limit} more definitions of '{args.name.strip()}' not shown]")
    return ToolResult(ok=True, output="\n".join(out), data={"matches": matches})


class FileSourceArgs(ToolArgs):
    path: str = Field(description="Source file relative to the repository root, e.g. 'src/calc.py'.")
    max_lines: int = Field(default=200, ge=1, le=2000, description="Longest file to return whole.")


def file_source(args: FileSourceArgs, ws: Workspace) -> ToolResult:
    """The exact text of a small source file, whole; refused (ok false) when it has more than max_lines lines."""
    target = source_file(args.path, ws, "file_source")
    rel = ws.rel(target)
    pf = parse_cache(ws).load(target, ws)  # a supported, readable, non-binary source file
    text = pf.source.decode("utf-8", errors="surrogateescape")
    lines = text.count("\n") + (0 if text.endswith("\n") or not text else 1)
    if lines > args.max_lines:
        return ToolResult(ok=False, output=f"{rel} has {lines} lines, more than {args.max_lines}",
                          data={"path": rel, "lines": lines})
    return ToolResult(ok=True, output=text, data={"path": rel, "lines": lines, "text": text})


TOOLS = [
    ToolSpec(
        "file_source",
        "The exact text of a small source file, whole (refused above max_lines lines).",
        FileSourceArgs,
        file_source,
        read_only=True,
        offered=False,
    ),
    ToolSpec(
        "definition_source",
        "The exact source text of the functions, methods or classes with a given name in one file, each after a "
        "'path:start-end name' line (Python decorators included).",
        DefinitionSourceArgs,
        definition_source,
        read_only=True,
        offered=False,
    ),
]
