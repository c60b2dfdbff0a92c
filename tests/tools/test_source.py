"""Tests for definition_source: the exact text of named definitions in one file, in every tree-sitter language."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from coder_tools.base import ToolError, Workspace
from coder_tools.source import TOOLS, DefinitionSourceArgs, FileSourceArgs, definition_source, file_source

FIXTURES = Path(__file__).parent / "fixtures" / "nav"

CALC = '''\
"""A calculator."""

import functools


def add(a, b):
    return a - b


@functools.lru_cache(maxsize=None)
@staticmethod
def cached(n):
    return n * 2


class Calc:
    def add(self, a, b):
        return add(a, b)

    def sub(self, a, b):
        return a - b
'''

TESTS = '''\
from calc import add


def test_add():
    assert add(1, 2) == 3


class TestCalc:
    def test_add(self):
        assert add(2, 2) == 4
'''

GO = """\
package calc

type Calc struct{}

// Add adds.
func (c *Calc) Add(a, b int) int {
\treturn a - b
}

func Add(a, b int) int {
\treturn a - b
}

func TestAdd(t *testing.T) {
\tif Add(1, 2) != 3 {
\t\tt.Fatal("bad")
\t}
}
"""


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "calc.py").write_text(CALC)
    (repo / "tests").mkdir()
    (repo / "tests" / "test_calc.py").write_text(TESTS)
    (repo / "calc.go").write_text(GO)
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    return Workspace(repo)


def source(ws: Workspace, path: str, name: str, limit: int = 3) -> list[dict[str, object]]:
    result = definition_source(DefinitionSourceArgs(path=path, name=name, limit=limit), ws)
    assert result.ok, result.output
    matches: list[dict[str, object]] = result.data["matches"]
    for m in matches:
        assert f"{m['path']}:{m['start_line']}-{m['end_line']} {m['name']}\n{m['text']}" in result.output
    return matches


def lines(text: str, start: int, end: int) -> str:
    return "\n".join(text.split("\n")[start - 1 : end])


def test_python_function_by_name(ws: Workspace) -> None:
    matches = source(ws, "calc.py", "add")
    assert [(m["name"], m["kind"], m["start_line"], m["end_line"]) for m in matches] == [
        ("add", "function", 6, 7), ("Calc.add", "method", 17, 18)]  # fmt: skip
    assert matches[0]["text"] == "def add(a, b):\n    return a - b"
    assert matches[1]["text"] == lines(CALC, 17, 18)
    assert len(source(ws, "calc.py", "add", limit=1)) == 1


def test_python_method_by_qualified_name(ws: Workspace) -> None:
    for name in ("Calc.add", "Calc::add", "calc.Calc.add", "Calc.add()"):
        (m,) = source(ws, "calc.py", name)
        assert (m["name"], m["kind"], m["start_line"], m["end_line"]) == ("Calc.add", "method", 17, 18)
        assert m["text"] == "    def add(self, a, b):\n        return add(a, b)"


def test_python_decorators_are_part_of_the_text(ws: Workspace) -> None:
    (m,) = source(ws, "calc.py", "cached")
    assert (m["start_line"], m["end_line"]) == (10, 13)
    assert m["text"] == lines(CALC, 10, 13)
    assert str(m["text"]).startswith("@functools.lru_cache(maxsize=None)\n@staticmethod\ndef cached(n):")


def test_pytest_test_names(ws: Workspace) -> None:
    (m,) = source(ws, "tests/test_calc.py", "tests/test_calc.py::test_add")
    assert (m["name"], m["start_line"], m["end_line"]) == ("test_add", 4, 5)
    for name in ("TestCalc::test_add", "TestCalc.test_add", "tests/test_calc.py::TestCalc::test_add[1-2]"):
        (m,) = source(ws, "tests/test_calc.py", name)
        assert (m["name"], m["kind"], m["start_line"], m["end_line"]) == ("TestCalc.test_add", "method", 9, 10)
        assert m["text"] == lines(TESTS, 9, 10)
    assert [m["name"] for m in source(ws, "tests/test_calc.py", "test_add")] == ["test_add", "TestCalc.test_add"]


def test_go_functions_and_methods(ws: Workspace) -> None:
    (m,) = source(ws, "calc.go", "Calc.Add")
    assert (m["name"], m["kind"], m["start_line"], m["end_line"]) == ("Calc.Add", "method", 6, 8)
    assert m["text"] == lines(GO, 6, 8)  # the doc comment above is not part of it
    assert [m["name"] for m in source(ws, "calc.go", "Add")] == ["Calc.Add", "Add"]
    (m,) = source(ws, "calc.go", "TestAdd/one_plus_two")
    assert m["text"] == lines(GO, 14, 18)


def test_no_match_names_what_exists(ws: Workspace) -> None:
    result = definition_source(DefinitionSourceArgs(path="calc.py", name="multiply"), ws)
    assert not result.ok and result.data["matches"] == []
    assert "multiply" in result.output and "calc.py" in result.output
    for name in ("add", "cached", "Calc", "Calc.add", "Calc.sub"):
        assert name in result.output
    result = definition_source(DefinitionSourceArgs(path="calc.py", name="Other.add"), ws)
    assert not result.ok and "Calc.add" in result.output


def test_no_match_lists_at_most_ten_names(ws: Workspace) -> None:
    (ws.root / "many.py").write_text("".join(f"def f{i}():\n    pass\n\n" for i in range(15)))
    result = definition_source(DefinitionSourceArgs(path="many.py", name="g"), ws)
    assert not result.ok and len(result.data["names"]) == 10 and "f9" in result.output and "f10" not in result.output


def test_non_utf8_bytes_and_crlf_survive(ws: Workspace) -> None:
    (ws.root / "raw.py").write_bytes(b'x = 1\r\n\r\n@dec\r\ndef f():\r\n    return "\xff"\r\n')
    (m,) = source(ws, "raw.py", "f")
    assert m["text"] == '@dec\r\ndef f():\r\n    return "\udcff"'
    assert str(m["text"]).encode("utf-8", errors="surrogateescape") == b'@dec\r\ndef f():\r\n    return "\xff"'


@pytest.mark.parametrize("path", ["notes.txt", "../outside.py", "/etc/passwd", ".git/hooks/x.py", "tests", "gone.py"])
def test_bad_paths_are_tool_errors(ws: Workspace, path: str) -> None:
    (ws.root / "notes.txt").write_text("def add(): pass\n")
    (ws.root.parent / "outside.py").write_text("def add(): pass\n")
    (ws.root / ".git" / "hooks" / "x.py").write_text("def add(): pass\n")
    with pytest.raises(ToolError):
        definition_source(DefinitionSourceArgs(path=path, name="add"), ws)


def test_unsupported_extension_and_outside_messages(ws: Workspace) -> None:
    (ws.root / "notes.txt").write_text("def add(): pass\n")
    with pytest.raises(ToolError, match="not a supported source file"):
        definition_source(DefinitionSourceArgs(path="notes.txt", name="add"), ws)
    with pytest.raises(ToolError, match="outside the repository"):
        definition_source(DefinitionSourceArgs(path="../outside.py", name="add"), ws)


FIXTURE_METHODS = [
    ("sample.py", "Greeter.greet", 12, 13), ("sample.js", "Greeter.greet", 8, 10),
    ("sample.ts", "Greeter.greet", 12, 14), ("sample.tsx", "Greeter.greet", 9, 11),
    ("sample.go", "Greeter.Greet", 17, 19), ("sample.rs", "Greeter::greet", 16, 18),
    ("Sample.java", "Sample.greet", 11, 13), ("sample.c", "greet", 12, 15), ("sample.cpp", "Greeter::greet", 15, 17),
]  # fmt: skip


@pytest.mark.parametrize(("file", "name", "start", "end"), FIXTURE_METHODS, ids=[f[0] for f in FIXTURE_METHODS])
def test_every_language(tmp_path: Path, file: str, name: str, start: int, end: int) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(FIXTURES, repo)
    ws = Workspace(repo)
    (m,) = source(ws, file, name)
    assert (m["name"], m["start_line"], m["end_line"]) == (name, start, end)
    assert m["text"] == lines((repo / file).read_text(), start, end)


def test_spec_is_for_strategies_only() -> None:
    assert [s.name for s in TOOLS] == ["file_source", "definition_source"]
    for spec in TOOLS:
        assert not spec.offered and spec.read_only and spec.may_have_changed(True) is False
    with pytest.raises(ValueError):
        DefinitionSourceArgs(path="a.py", name="f", limit=11)


def test_file_source_gives_a_small_file_whole_and_refuses_a_long_one(ws: Workspace) -> None:
    whole = file_source(FileSourceArgs(path="calc.py"), ws)
    assert whole.ok and whole.data == {"path": "calc.py", "lines": CALC.count("\n"), "text": CALC}
    long = file_source(FileSourceArgs(path="calc.py", max_lines=5), ws)
    assert not long.ok and long.data["lines"] == CALC.count("\n") and "more than 5" in long.output


@pytest.mark.parametrize("path", ["notes.txt", "../outside.py", ".git/hooks/x.py", "tests", "gone.py"])
def test_file_source_bad_paths_are_tool_errors(ws: Workspace, path: str) -> None:
    (ws.root / "notes.txt").write_text("hi\n")
    (ws.root / ".git" / "hooks" / "x.py").write_text("x = 1\n")
    with pytest.raises(ToolError):
        file_source(FileSourceArgs(path=path), ws)
