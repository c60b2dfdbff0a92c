"""A test that hangs (issue 17): a per-test time limit where the runner allows it (pytest, unittest), and the results
of the tests that finished still read when the whole run is killed at its time limit (pytest, unittest, node, go)."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from coder_tools import testrun_detect
from coder_tools.base import Workspace, WorkspaceOptions
from coder_tools.server import run_tool
from coder_tools.testrun_parsers import UNFINISHED

HANGS = "import time\n\n\ndef spin():\n    while True:\n        time.sleep(0.01)\n"
PYTEST_TESTS = ("from slow import spin\n\n\ndef test_a_first():\n    assert True\n\n\ndef test_b_hangs():\n    spin()\n\n\n"
                "def test_c_fails():\n    assert 1 == 2\n")
UNITTEST_TESTS = ("import unittest\n\nfrom slow import spin\n\n\nclass T(unittest.TestCase):\n"
                  "    def test_a_first(self):\n        pass\n\n    def test_b_hangs(self):\n        spin()\n\n"
                  "    def test_c_fails(self):\n        self.assertEqual(1, 2)\n")


def project(root: Path, tests: str) -> Path:
    (root / "tests").mkdir(parents=True)
    (root / "setup.py").write_text("")
    (root / "slow.py").write_text(HANGS)
    (root / "tests" / "test_slow.py").write_text(tests)
    return root


def run(root: Path, **options: object) -> tuple[bool, str, dict[str, object], float]:
    began = time.monotonic()
    result = run_tool(Workspace(root, WorkspaceOptions(**options)), "run_tests", {})  # type: ignore[arg-type]
    return result.ok, result.output, result.data, time.monotonic() - began


def test_pytest_per_test_limit_fails_the_hanging_test_and_runs_the_rest(tmp_path: Path) -> None:
    ok, output, data, took = run(project(tmp_path, PYTEST_TESTS), test_timeout=1.5, bash_timeout=60)
    assert ok and took < 30, output
    assert data["tests"] == {"tests/test_slow.py::test_a_first": "passed", "tests/test_slow.py::test_b_hangs": "failed",
                             "tests/test_slow.py::test_c_fails": "failed"}
    assert "did not finish within 1.5s (the per-test time limit)" in output


def test_pytest_results_before_a_kill_are_kept(tmp_path: Path) -> None:
    ok, output, data, _ = run(project(tmp_path, PYTEST_TESTS), bash_timeout=4)
    assert not ok and data["exit_code"] is None
    assert data["tests"] == {"tests/test_slow.py::test_a_first": "passed", "tests/test_slow.py::test_b_hangs": "failed"}
    assert "Before that: 1 passed, 1 failed" in output and "still running: tests/test_slow.py::test_b_hangs" in output
    assert any(f["message"] == UNFINISHED for f in data["failures"])  # type: ignore[union-attr]


@pytest.mark.parametrize("limit", [1.5, None])
def test_unittest_per_test_limit_and_results_before_a_kill(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                           limit: float | None) -> None:
    monkeypatch.setattr(testrun_detect, "pytest_available", lambda python: False)
    ok, output, data, _ = run(project(tmp_path, UNITTEST_TESTS), test_timeout=limit, bash_timeout=4 if not limit else 60)
    tests = data["tests"]
    assert tests["test_slow.T.test_a_first"] == "passed", output  # type: ignore[index]
    if limit:
        assert ok and tests == {"test_slow.T.test_a_first": "passed", "test_slow.T.test_b_hangs": "error",
                                "test_slow.T.test_c_fails": "failed"}
        assert "per-test time limit" in output
    else:
        assert not ok and tests == {"test_slow.T.test_a_first": "passed", "test_slow.T.test_b_hangs": "failed"}


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_node_results_before_a_kill_are_kept(tmp_path: Path) -> None:
    (tmp_path / "package.json").write_text('{"name": "x", "scripts": {"test": "node --test"}}\n')
    (tmp_path / "test").mkdir()
    head = "const test = require('node:test');\nconst assert = require('node:assert');\n"
    (tmp_path / "test" / "a.test.js").write_text(head + "test('first', () => { assert.ok(true); });\n")
    (tmp_path / "test" / "b.test.js").write_text(
        head + "test('hangs', () => { const end = Date.now() + 600000; while (Date.now() < end) {} });\n")
    ok, output, data, _ = run(tmp_path, bash_timeout=6)
    # node reports a file's tests when the file's process is done: the finished file's results are kept
    assert not ok and data["tests"]["test/a.test.js::first"] == "passed", output  # type: ignore[index]


@pytest.mark.skipif(shutil.which("go") is None, reason="go is not installed")
def test_go_results_before_a_kill_are_kept(tmp_path: Path) -> None:
    (tmp_path / "go.mod").write_text("module example.com/slow\n\ngo 1.19\n")
    (tmp_path / "slow_test.go").write_text(
        "package slow\n\nimport (\n\t\"testing\"\n\t\"time\"\n)\n\n"
        "func TestFirst(t *testing.T) {}\n\nfunc TestHangs(t *testing.T) { time.Sleep(10 * time.Minute) }\n")
    ok, output, data, _ = run(tmp_path, bash_timeout=20)
    assert not ok, output
    assert data["tests"] == {"example.com/slow::TestFirst": "passed", "example.com/slow::TestHangs": "failed"}, output
