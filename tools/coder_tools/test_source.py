"""test_source: the source text of a test from the id its runner reported (pytest, node, go), for repair prompts."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from tree_sitter import Node

from .base import ToolArgs, ToolError, ToolResult, ToolSpec, Workspace
from .localize_go import go_module
from .source import DefinitionSourceArgs, definition_source
from .treesitter import ParsedFile, parse_cache

_JS = frozenset({"javascript", "typescript", "tsx"})
_STRINGS = frozenset({"string", "template_string"})
MAX_GO_TEST_FILES = 200  # _test.go files of one package searched for a test function


class TestSourceArgs(ToolArgs):
    test_id: str = Field(
        description="A test id as the runner reports it: 'tests/test_x.py::TestA::test_b[1]', "
        "'test/a.test.js::suite > case', 'example.com/mod/pkg::TestName/sub'.",
        min_length=1,
    )
    __test__ = False  # a tool's arguments, not a pytest test class


def _file(ws: Workspace, rel: str) -> Path | None:
    try:
        path = ws.resolve(rel)
    except ToolError:
        return None
    return path if path.is_file() else None


def _found(ws: Workspace, path: Path, text: str, line: int, name: str) -> ToolResult:
    rel = ws.rel(path)
    return ToolResult(ok=True, output=f"{rel}:{line} {name}\n{text}",
                      data={"path": rel, "name": name, "start_line": line, "text": text})


def _unquoted(node: Node) -> str:
    raw = (node.text or b"").decode("utf-8", errors="replace")
    return raw[1:-1] if len(raw) >= 2 else raw


def _call_around(node: Node) -> Node | None:
    """The call a test title is the first argument of: `it("title", ...)`, `test("title", ...)`."""
    args = node.parent
    if args is None or args.type != "arguments" or not args.named_children or args.named_children[0] != node:
        return None
    call = args.parent
    return call if call is not None and call.type == "call_expression" else None


def _titled_calls(root: Node, title: str) -> list[Node]:
    found: list[Node] = []
    stack = [root]
    while stack:
        node = stack.pop()
        if node.type in _STRINGS and _unquoted(node) == title:
            call = _call_around(node)
            if call is not None:
                found.append(call)
            continue
        stack.extend(reversed(node.children))
    return found


def _suites(call: Node) -> list[str]:
    """The titles of the calls enclosing a test call (its describe blocks), outermost first."""
    titles: list[str] = []
    node = call.parent
    while node is not None:
        if node.type == "call_expression":
            args = node.child_by_field_name("arguments")
            first = args.named_children[0] if args is not None and args.named_children else None
            if first is not None and first.type in _STRINGS:
                titles.append(_unquoted(first))
        node = node.parent
    return titles[::-1]


def _js_test(ws: Workspace, pf: ParsedFile, path: Path, rest: str) -> ToolResult | None:
    """A node/vitest/jest id 'file::suite > case': the `it`/`test` call titled case, inside the suites named."""
    parts = [p.strip() for p in rest.split(" > ")]
    calls = _titled_calls(parse_cache(ws).tree(pf).root_node, parts[-1])
    if not calls:
        return None
    best = max(calls, key=lambda c: sum(1 for s in _suites(c) if s in parts[:-1]))
    line_start = pf.source.rfind(b"\n", 0, best.start_byte) + 1
    text = pf.source[line_start : best.end_byte].decode("utf-8", errors="surrogateescape")
    return _found(ws, path, text, best.start_point.row + 1, " > ".join(parts))


def _definition(ws: Workspace, path: Path, name: str) -> ToolResult | None:
    try:
        result = definition_source(DefinitionSourceArgs(path=ws.rel(path), name=name, limit=1), ws)
    except ToolError:
        return None
    if not result.ok or not result.data.get("matches"):
        return None
    match = result.data["matches"][0]
    return _found(ws, path, str(match["text"]), int(match["start_line"]), str(match["name"]))


def _go_test(ws: Workspace, package: str, rest: str) -> ToolResult | None:
    """A go test id 'import/path::TestName/sub': TestName in the package's _test.go files (the whole function, so a
    table-driven test shows its cases)."""
    module = go_module(ws.root)
    if not module or not (package == module or package.startswith(module + "/")):
        return None
    directory = ws.root / package[len(module) + 1 :] if package != module else ws.root
    if not directory.is_dir() or not directory.resolve().is_relative_to(ws.root):
        return None
    name = rest.split("/", 1)[0]
    for path in sorted(directory.glob("*_test.go"))[:MAX_GO_TEST_FILES]:
        found = _definition(ws, path, name)
        if found is not None:
            return found
    return None


def test_source(args: TestSourceArgs, ws: Workspace) -> ToolResult:
    test_id = args.test_id.strip()
    head, sep, rest = test_id.partition("::")
    found: ToolResult | None = None
    path = _file(ws, head) if sep else None
    if path is not None:
        try:
            pf = parse_cache(ws).load(path, ws)
        except ToolError:
            pf = None
        if pf is not None and pf.lang in _JS:
            found = _js_test(ws, pf, path, rest)
        elif pf is not None:
            found = _definition(ws, path, test_id)
    elif sep:
        found = _go_test(ws, head, rest)
    if found is None:
        return ToolResult(ok=False, output=f"no test source found for {test_id!r}", data={})
    return found


test_source.__test__ = False  # type: ignore[attr-defined]  # a tool, not a pytest test

TOOLS = [
    ToolSpec(
        "test_source",
        "The source text of a test, found from the id its runner reported (pytest, node's test runner, go test).",
        TestSourceArgs,
        test_source,
        read_only=True,
        offered=False,
    ),
]
