"""Tests for the tree-sitter navigation tools (outline, find_definition, find_references)."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from tree_sitter import Query
from tree_sitter_language_pack import get_language

from coder_tools import navigation, treesitter
from coder_tools.base import ToolError, Workspace
from coder_tools.navigation import FindDefinitionArgs, FindReferencesArgs, OutlineArgs
from coder_tools.registry import all_tools
from coder_tools.server import run_tool

FIXTURES = Path(__file__).parent / "fixtures" / "nav"


@dataclass(frozen=True)
class Case:
    file: str
    cls: tuple[str, str, int, int]  # kind, name, first line, last line of the class/struct
    method: tuple[str, str, int]  # kind, name, line of a function/method
    call: tuple[str, int]  # symbol called, line of the call site


CASES = [
    Case("sample.py", ("class", "Greeter", 6, 13), ("method", "greet", 12), ("greet", 18)),
    Case("sample.js", ("class", "Greeter", 3, 11), ("method", "greet", 8), ("greet", 15)),
    Case("sample.ts", ("class", "Greeter", 9, 15), ("method", "greet", 12), ("greet", 19)),
    Case("sample.tsx", ("class", "Greeter", 8, 16), ("method", "greet", 9), ("greet", 14)),
    Case("sample.go", ("struct", "Greeter", 7, 9), ("method", "Greet", 17), ("Greet", 24)),
    Case("sample.rs", ("struct", "Greeter", 3, 5), ("method", "greet", 16), ("greet", 23)),
    Case("Sample.java", ("class", "Sample", 4, 19), ("method", "greet", 11), ("greet", 17)),
    Case("sample.c", ("struct", "greeter", 6, 8), ("function", "greet", 12), ("greet", 21)),
    Case("sample.cpp", ("class", "Greeter", 6, 13), ("method", "greet", 9), ("greet", 21)),
]
IDS = [c.file for c in CASES]


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    repo = tmp_path / "repo"
    shutil.copytree(FIXTURES, repo)
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    return Workspace(repo)


def symbols(ws: Workspace, file: str) -> list[dict[str, object]]:
    result = navigation.outline(OutlineArgs(path=file), ws)
    assert result.ok, result.output
    return result.data["symbols"]


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_outline_finds_known_symbols(ws: Workspace, case: Case) -> None:
    syms = symbols(ws, case.file)
    kind, name, start, end = case.cls
    cls = next(s for s in syms if s["name"] == name and s["kind"] == kind)
    assert (cls["line"], cls["end_line"]) == (start, end)
    mkind, mname, mline = case.method
    assert any(s["name"] == mname and s["kind"] == mkind and s["line"] == mline for s in syms), syms
    text = navigation.outline(OutlineArgs(path=case.file), ws).output
    assert f"{kind} {name}  L{start}-{end}" in text


def test_outline_nests_methods_under_their_class(ws: Workspace) -> None:
    text = navigation.outline(OutlineArgs(path="sample.py"), ws).output
    assert text.splitlines()[1:] == [
        "variable GREETING  L3",
        "class Greeter  L6-13",
        "  method __init__  L9-10",
        "  method greet  L12-13",
        "function make_greeting  L16-18",
    ]
    go = navigation.outline(OutlineArgs(path="sample.go"), ws).output
    assert "method Greeter.Greet  L17-19" in go  # Go methods are qualified by their receiver


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_find_definition(ws: Workspace, case: Case) -> None:
    kind, name, start, _ = case.cls
    result = navigation.find_definition(FindDefinitionArgs(symbol=name, path=case.file), ws)
    assert result.ok
    assert any(d["line"] == start and d["kind"] == kind for d in result.data["definitions"]), result.output
    assert f"{case.file}:{start} {kind} " in result.output
    mkind, mname, mline = case.method
    result = navigation.find_definition(FindDefinitionArgs(symbol=mname), ws)
    assert any(d["path"] == case.file and d["line"] == mline for d in result.data["definitions"]), result.output


def test_find_definition_shows_first_line_and_qualifies(ws: Workspace) -> None:
    out = navigation.find_definition(FindDefinitionArgs(symbol="Greeter.greet"), ws).output
    assert "sample.py:12 method Greeter.greet" in out
    assert "    def greet(self) -> str:" in out
    assert "Sample.java" not in out  # Sample.greet belongs to another class
    out = navigation.find_definition(FindDefinitionArgs(symbol="Greeter::greet", path="sample.cpp"), ws).output
    assert "sample.cpp:15 function Greeter::greet" in out


def test_find_definition_missing_suggests_names(ws: Workspace) -> None:
    result = navigation.find_definition(FindDefinitionArgs(symbol="greeting"), ws)
    assert result.ok and result.data["definitions"] == []
    assert "No definition of 'greeting'" in result.output and "make_greeting" in result.output


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_find_references_finds_call_site(ws: Workspace, case: Case) -> None:
    symbol, line = case.call
    result = navigation.find_references(FindReferencesArgs(symbol=symbol), ws)
    assert result.ok
    assert {"path": case.file, "line": line, "kind": "call"} in result.data["references"], result.output
    assert f"{case.file}:{line}: " in result.output
    defs = navigation.find_definition(FindDefinitionArgs(symbol=symbol, path=case.file), ws).data["definitions"]
    refs = {(r["path"], r["line"]) for r in result.data["references"]}
    assert not any((d["path"], d["line"]) in refs for d in defs if d["line"] != line)


def test_find_references_identifier_fallback_skips_strings(ws: Workspace) -> None:
    (ws.root / "use.py").write_text('from sample import Greeter\n\nG = Greeter\nprint("Greeter")  # Greeter\n')
    result = navigation.find_references(FindReferencesArgs(symbol="Greeter", path="use.py"), ws)
    assert [(r["line"], r["kind"]) for r in result.data["references"]] == [(1, "use"), (3, "use")]


def test_find_references_is_capped(ws: Workspace) -> None:
    calls = "".join("helper()\n" for _ in range(navigation.MAX_REFERENCES + 20))
    (ws.root / "many.py").write_text("def helper():\n    pass\n" + calls)
    result = navigation.find_references(FindReferencesArgs(symbol="helper"), ws)
    assert result.data["total"] == navigation.MAX_REFERENCES + 20
    assert len(result.data["references"]) == navigation.MAX_REFERENCES
    assert "20 more not shown" in result.output


@pytest.mark.parametrize("lang", treesitter.LANGUAGES)
def test_every_query_compiles(lang: str) -> None:
    query = Query(get_language(lang), treesitter.query_path(lang).read_text())  # type: ignore[arg-type]
    assert query.pattern_count > 0


def test_every_query_file_is_used() -> None:
    used = {treesitter.query_path(lang).name for lang in treesitter.LANGUAGES}
    assert used == {p.name for p in treesitter.QUERY_DIR.glob("*-tags.scm")}


def test_parse_cache_is_reused_and_invalidated(ws: Workspace) -> None:
    cache = treesitter.parse_cache(ws)
    navigation.outline(OutlineArgs(path="sample.py"), ws)
    assert cache.parses == 1
    entry = cache.files[ws.root / "sample.py"][1]
    navigation.outline(OutlineArgs(path="sample.py"), ws)
    navigation.find_definition(FindDefinitionArgs(symbol="Greeter", path="sample.py"), ws)
    navigation.find_references(FindReferencesArgs(symbol="greet", path="sample.py"), ws)
    assert cache.parses == 1 and cache.files[ws.root / "sample.py"][1] is entry
    navigation.find_definition(FindDefinitionArgs(symbol="greet"), ws)
    parsed_all = cache.parses
    navigation.find_definition(FindDefinitionArgs(symbol="greet"), ws)
    assert cache.parses == parsed_all
    (ws.root / "sample.py").write_text("def fresh():\n    pass\n")
    assert [s["name"] for s in symbols(ws, "sample.py")] == ["fresh"]
    assert cache.parses == parsed_all + 1


def test_path_escape_rejected(ws: Workspace) -> None:
    with pytest.raises(ToolError, match="outside the repository"):
        navigation.outline(OutlineArgs(path="../outside.py"), ws)
    with pytest.raises(ToolError, match="outside the repository"):
        navigation.find_definition(FindDefinitionArgs(symbol="x", path="/etc"), ws)
    result = run_tool(ws, "find_references", {"symbol": "x", "path": "../.."})
    assert not result.ok and "outside the repository" in result.output


def test_unsupported_extension_names_supported_ones(ws: Workspace) -> None:
    (ws.root / "notes.txt").write_text("def greet(): pass\n")
    with pytest.raises(ToolError, match=r"not a supported source file.*\.py.*\.rs"):
        navigation.outline(OutlineArgs(path="notes.txt"), ws)
    result = run_tool(ws, "find_definition", {"symbol": "greet", "path": "notes.txt"})
    assert not result.ok and ".java" in result.output
    (ws.root / "docs").mkdir()
    (ws.root / "docs" / "a.md").write_text("greet\n")
    result = run_tool(ws, "find_definition", {"symbol": "greet", "path": "docs"})
    assert not result.ok and "no supported source files" in result.output


def test_file_listing_respects_gitignore_and_works_without_git(ws: Workspace, tmp_path: Path) -> None:
    (ws.root / ".gitignore").write_text("ignored/\n")
    (ws.root / "ignored").mkdir()
    (ws.root / "ignored" / "gen.py").write_text("class Greeter:\n    pass\n")
    (ws.root / "blob.py").write_bytes(b"class Greeter:\x00\n")
    paths = {d["path"] for d in navigation.find_definition(FindDefinitionArgs(symbol="Greeter"), ws).data["definitions"]}
    assert "ignored/gen.py" not in paths and "blob.py" not in paths and "sample.py" in paths
    plain = tmp_path / "plain"
    shutil.copytree(FIXTURES, plain)  # no git repo: the os.walk fallback
    found = navigation.find_definition(FindDefinitionArgs(symbol="Greeter"), Workspace(plain))
    assert any(d["path"] == "sample.rs" for d in found.data["definitions"])


def test_tools_are_registered_with_described_args() -> None:
    tools = all_tools()
    for name in ("outline", "find_definition", "find_references"):
        params = tools[name].schema()["function"]["parameters"]
        assert all(p.get("description") for p in params["properties"].values()), name
    assert tools["find_definition"].schema()["function"]["parameters"]["required"] == ["symbol"]


def test_symbol_forms_are_tolerated(ws: Workspace) -> None:
    for form in ("make_greeting()", "def make_greeting(name: str)", " make_greeting "):
        defs = navigation.find_definition(FindDefinitionArgs(symbol=form, path="sample.py"), ws).data["definitions"]
        assert [d["line"] for d in defs] == [16], form
    result = run_tool(ws, "find_definition", {"symbol": "a b+c"})
    assert not result.ok and "not a name" in result.output


def test_source_listing_does_not_run_an_fsmonitor_planted_in_the_workspace(ws: Workspace, tmp_path: Path) -> None:
    """find_references lists files with the server's git: a core.fsmonitor in .git/config ran with its identity."""
    marker = tmp_path / "ran.txt"
    hook = tmp_path / "hook.sh"
    hook.write_text(f"#!/bin/sh\necho ran >> {marker}\n")
    hook.chmod(0o755)
    subprocess.run(["git", "config", "core.fsmonitor", str(hook)], cwd=ws.root, check=True)
    files = treesitter.source_files(ws, ws.root)
    assert any(p.name == "sample.py" for p in files)
    assert not marker.exists()
