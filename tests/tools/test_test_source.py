"""Tests for test_source: a test's source text from the id its runner reported (pytest, node, go)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from coder_tools.base import Workspace
from coder_tools.registry import all_tools
from coder_tools.test_source import TestSourceArgs, test_source

PY_TESTS = '''\
import pytest


@pytest.mark.parametrize("n", [1, 2])
def test_double(n):
    assert n * 2 == 2 * n


class TestCalc:
    def test_add(self):
        assert 1 + 1 == 2
'''

JS_TESTS = """\
import { describe, it } from 'node:test';

describe('money', () => {
  describe('toCents', () => {
    it('rounds', () => {
      assert.equal(toCents(1.15), 115);
    });
  });
  describe('format', () => {
    it("rounds", () => {
      assert.equal(format(1), '1.00');
    });
  });
});

test(`top level`, () => {
  assert.ok(true);
});
"""

GO_TESTS = """\
package text

import "testing"

func helper() {}

func TestTruncate(t *testing.T) {
\tcases := []struct{ in, want string }{{"Größe", "Grö…"}}
\tfor _, c := range cases {
\t\tt.Run(c.in, func(t *testing.T) {})
\t}
}
"""


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    repo = tmp_path / "repo"
    (repo / "tests").mkdir(parents=True)
    (repo / "tests" / "test_calc.py").write_text(PY_TESTS)
    (repo / "test").mkdir()
    (repo / "test" / "money.test.js").write_text(JS_TESTS)
    (repo / "text").mkdir()
    (repo / "text" / "shorten_test.go").write_text(GO_TESTS)
    (repo / "go.mod").write_text("module example.com/news\n\ngo 1.19\n")
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    return Workspace(repo)


def found(ws: Workspace, test_id: str) -> dict[str, object]:
    result = test_source(TestSourceArgs(test_id=test_id), ws)
    assert result.ok, result.output
    assert str(result.data["text"]) in result.output
    return result.data


def test_pytest_ids_with_parameters_and_classes(ws: Workspace) -> None:
    data = found(ws, "tests/test_calc.py::test_double[2]")
    assert data["path"] == "tests/test_calc.py"
    assert str(data["text"]).startswith('@pytest.mark.parametrize("n", [1, 2])\ndef test_double(n):')
    data = found(ws, "tests/test_calc.py::TestCalc::test_add")
    assert data["text"] == "    def test_add(self):\n        assert 1 + 1 == 2"


def test_node_ids_pick_the_case_inside_the_named_suites(ws: Workspace) -> None:
    data = found(ws, "test/money.test.js::money > format > rounds")
    assert data["text"] == "    it(\"rounds\", () => {\n      assert.equal(format(1), '1.00');\n    })"
    assert data["start_line"] == 10
    data = found(ws, "test/money.test.js::money > toCents > rounds")
    assert "toCents(1.15)" in str(data["text"])
    assert "top level" in str(found(ws, "test/money.test.js::top level")["text"])


def test_go_ids_give_the_whole_test_function_for_a_subtest(ws: Workspace) -> None:
    data = found(ws, "example.com/news/text::TestTruncate/Größe")
    assert data["path"] == "text/shorten_test.go"
    assert str(data["text"]).startswith("func TestTruncate(t *testing.T) {") and "t.Run" in str(data["text"])


@pytest.mark.parametrize("test_id", [
    "tests/test_calc.py::test_missing",
    "test/money.test.js::money > no such case",
    "example.com/other/text::TestTruncate",  # another module's package
    "example.com/news/nothere::TestTruncate",
    "example.com/news/text::TestMissing",
    "../outside.py::test_x",
    "/etc/passwd::root",
    "plain_name_without_a_file",
])  # fmt: skip
def test_unknown_ids_are_not_found_and_never_raise(ws: Workspace, test_id: str) -> None:
    result = test_source(TestSourceArgs(test_id=test_id), ws)
    assert not result.ok and result.data == {}
    assert "no test source found" in result.output


def test_spec_is_for_strategies_only() -> None:
    spec = all_tools()["test_source"]
    assert spec.read_only and not spec.offered
