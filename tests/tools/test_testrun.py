"""run_tests against small temp projects for every supported runner."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from coder_tools import testrun_detect
from coder_tools.base import Workspace, WorkspaceOptions
from coder_tools.server import run_tool
from coder_tools.testrun import STATE_KEY

needs_node = pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
needs_go = pytest.mark.skipif(shutil.which("go") is None, reason="go is not installed")


def write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def run(root: Path, tests: list[str] | None = None, **options: object) -> tuple[bool, str, dict]:
    ws = Workspace(root, WorkspaceOptions(**options))  # type: ignore[arg-type]
    args = {} if tests is None else {"tests": tests}
    result = run_tool(ws, "run_tests", args)
    return result.ok, result.output, result.data


PYTEST_PROJECT = {
    "pyproject.toml": "[tool.pytest.ini_options]\ntestpaths = ['tests']\n",
    "calc.py": "def add(a, b):\n    return a + b\n",
    "tests/test_calc.py": (
        "import pytest\nfrom calc import add\n\n"
        "def test_ok():\n    assert add(1, 2) == 3\n\n"
        "def test_fail():\n    assert add(2, 2) == 5\n\n"
        "@pytest.fixture\ndef broken():\n    raise RuntimeError('fixture boom')\n\n"
        "def test_error(broken):\n    pass\n\n"
        "@pytest.mark.skip(reason='later')\ndef test_skip():\n    pass\n\n"
        "@pytest.mark.parametrize('x', [1, 2])\ndef test_param(x):\n    assert x == 1\n\n"
        "class TestAdd:\n    def test_method(self):\n        assert add(0, 0) == 0\n"
    ),
}


def test_pytest_outcomes_and_ids(tmp_path: Path) -> None:
    ok, output, data = run(write(tmp_path, PYTEST_PROJECT))
    assert ok
    assert data["runner"] == "pytest" and data["exit_code"] == 1
    f = "tests/test_calc.py::"
    assert data["tests"] == {
        f + "test_ok": "passed", f + "test_fail": "failed", f + "test_error": "error", f + "test_skip": "skipped",
        f + "test_param[1]": "passed", f + "test_param[2]": "failed", f + "TestAdd::test_method": "passed",
    }
    assert (data["passed"], data["failed"], data["errors"], data["skipped"]) == (3, 2, 1, 1)
    assert output.startswith("3 passed, 2 failed, 1 errors, 1 skipped (pytest:")
    assert "FAILED tests/test_calc.py::test_fail" in output and "assert 4 == 5" in output
    assert "fixture boom" in output
    messages = {f["id"]: f["message"] for f in data["failures"]}
    assert "tests/test_calc.py:" in messages[f + "test_fail"]
    assert not list(tmp_path.rglob("*.xml")) and not (tmp_path / ".pytest_cache").exists()


def test_pytest_subset_and_collection_error(tmp_path: Path) -> None:
    write(tmp_path, {**PYTEST_PROJECT, "tests/test_broken.py": "import does_not_exist\n"})
    ok, _, data = run(tmp_path, ["tests/test_calc.py::test_param[2]", "tests/test_calc.py::TestAdd"])
    assert ok and data["tests"] == {
        "tests/test_calc.py::test_param[2]": "failed", "tests/test_calc.py::TestAdd::test_method": "passed",
    }
    ok, output, data = run(tmp_path)
    assert data["tests"]["tests/test_broken.py"] == "error"
    assert "does_not_exist" in output


def test_unittest_when_pytest_missing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(testrun_detect, "pytest_available", lambda python: False)
    write(tmp_path, {
        "setup.py": "",
        "tests/test_u.py": (
            "import unittest\n\nclass T(unittest.TestCase):\n"
            "    def test_ok(self):\n        pass\n"
            "    def test_bad(self):\n        self.assertEqual(1, 2)\n"
            "    def test_err(self):\n        raise ValueError('nope')\n"
            "    @unittest.skip('later')\n    def test_skip(self):\n        pass\n"
        ),
    })
    ok, output, data = run(tmp_path)
    assert ok and data["runner"] == "unittest"
    assert data["tests"] == {
        "test_u.T.test_ok": "passed", "test_u.T.test_bad": "failed",
        "test_u.T.test_err": "error", "test_u.T.test_skip": "skipped",
    }
    assert "AssertionError: 1 != 2" in output and "python -m unittest discover" in output
    ok, _, data = run(tmp_path, ["test_u.T.test_bad"])
    assert data["tests"] == {"test_u.T.test_bad": "failed"}
    assert "note" not in data  # a unittest project: nothing to warn about


def test_pytest_tests_without_pytest_say_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(testrun_detect, "pytest_available", lambda python: False)
    write(tmp_path, {"calc.py": "def add(a, b):\n    return a - b\n",
                     "tests/test_calc.py": "from calc import add\n\ndef test_add():\n    assert add(2, 3) == 5\n"})
    ok, output, data = run(tmp_path)
    assert ok and data["runner"] == "unittest" and data["passed"] + data["failed"] == 0
    assert output.startswith("Note: pytest is not installed") and "sandbox.setup" in output


NODE_TEST = """const test = require('node:test');
const assert = require('node:assert');
const { double } = require('../lib.js');
test.describe('double', () => {
  test.describe('numbers', () => {
    test.it('doubles two', () => { assert.strictEqual(double(2), 4); });
    test.it('doubles three', () => { assert.strictEqual(double(3), 7); });
  });
});
test('top level', () => {});
test('later', { skip: true }, () => {});
"""


@needs_node
def test_node_test_via_package_json(tmp_path: Path) -> None:
    write(tmp_path, {
        "package.json": json.dumps({"name": "x", "scripts": {"test": "node --test test/"}}),
        "lib.js": "exports.double = (n) => n * 2;\n",
        "test/double.test.js": NODE_TEST,
    })
    ok, output, data = run(tmp_path)
    f = "test/double.test.js::"
    assert ok and data["runner"] == "node"
    assert data["tests"] == {
        f + "double > numbers > doubles two": "passed", f + "double > numbers > doubles three": "failed",
        f + "top level": "passed", f + "later": "skipped",
    }
    assert "6 !== 7" in output and "test/double.test.js:7" in output
    ok, _, data = run(tmp_path, [f + "double > numbers > doubles three"])
    assert data["tests"] == {f + "double > numbers > doubles three": "failed"}


@needs_go
def test_go_test_with_subtests(tmp_path: Path) -> None:
    write(tmp_path, {
        "go.mod": "module example.com/calc\n\ngo 1.19\n",
        "calc.go": "package calc\n\nfunc Add(a, b int) int { return a + b }\n",
        "calc_test.go": (
            'package calc\n\nimport "testing"\n\n'
            "func TestAdd(t *testing.T) {\n"
            '\tt.Run("small", func(t *testing.T) { if Add(1, 1) != 2 { t.Fatal("bad") } })\n'
            '\tt.Run("wrong", func(t *testing.T) { if Add(2, 2) != 5 { t.Fatalf("got %d", Add(2, 2)) } })\n}\n\n'
            'func TestSkip(t *testing.T) { t.Skip("later") }\n'
        ),
    })
    ok, output, data = run(tmp_path)
    p = "example.com/calc::"
    assert ok and data["runner"] == "go"
    assert data["tests"] == {
        p + "TestAdd/small": "passed", p + "TestAdd/wrong": "failed", p + "TestAdd": "failed", p + "TestSkip": "skipped",
    }
    assert "got 4" in output
    ok, _, data = run(tmp_path, [p + "TestAdd/small"])
    assert data["tests"] == {p + "TestAdd/small": "passed", p + "TestAdd": "passed"}


def _cargo_works() -> bool:
    if shutil.which("cargo") is None:
        return False
    try:
        return subprocess.run(["cargo", "--version"], capture_output=True, timeout=30).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


@pytest.mark.skipif(not _cargo_works(), reason="cargo is not usable here")
def test_cargo_test(tmp_path: Path) -> None:
    write(tmp_path, {
        "Cargo.toml": '[package]\nname = "calc"\nversion = "0.1.0"\nedition = "2021"\n\n[dependencies]\n',
        "src/lib.rs": (
            "pub fn add(a: i32, b: i32) -> i32 { a + b }\n\n#[cfg(test)]\nmod tests {\n    use super::*;\n"
            "    #[test]\n    fn adds() { assert_eq!(add(1, 2), 3); }\n"
            "    #[test]\n    fn wrong() { assert_eq!(add(2, 2), 5, \"math\"); }\n"
            "    #[test]\n    #[ignore]\n    fn later() {}\n}\n"
        ),
    })
    ok, output, data = run(tmp_path, bash_timeout=300, env={"CARGO_TARGET_DIR": str(tmp_path / "target")})
    if data.get("exit_code") not in (0, 101) or not data.get("tests"):
        pytest.skip(f"cargo could not build offline here: {output[-300:]}")
    assert data["tests"] == {"tests::adds": "passed", "tests::wrong": "failed", "tests::later": "skipped"}
    assert "math" in output


def test_configured_command_exit_code_only(tmp_path: Path) -> None:
    (tmp_path / "check.sh").write_text("echo checking $GREETING; exit 3\n")
    ok, output, data = run(tmp_path, test_command="sh check.sh", env={"GREETING": "hello"})
    assert ok and data["runner"] == "command" and data["exit_code"] == 3
    assert data["failed"] == 1 and data["tests"] == {}
    assert "checking hello" in output and "exited with 3" in output


def test_configured_pytest_command_keeps_per_test_results(tmp_path: Path) -> None:
    write(tmp_path, PYTEST_PROJECT)
    ok, _, data = run(tmp_path, test_command="python -m pytest tests/test_calc.py -k 'ok or method'")
    assert ok and data["runner"] == "pytest"
    assert data["tests"] == {"tests/test_calc.py::test_ok": "passed", "tests/test_calc.py::TestAdd::test_method": "passed"}


def test_nothing_detected(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("hello\n")
    ok, output, data = run(tmp_path)
    assert not ok and data["runner"] is None
    assert "No test runner detected" in output and "bash" in output and "go.mod" in output


def test_timeout_kills_the_process_group(tmp_path: Path) -> None:
    script = "sleep 60 & echo $! > child.pid; wait\n"
    (tmp_path / "slow.sh").write_text(script)
    started = time.monotonic()
    ok, output, data = run(tmp_path, test_command="sh slow.sh", bash_timeout=1.0)
    assert time.monotonic() - started < 30
    assert not ok and data["exit_code"] is None and "did not finish within 1s" in output
    pid = int((tmp_path / "child.pid").read_text())
    for _ in range(50):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    else:
        pytest.fail("the background child survived the timeout")


def test_detection_is_cached(tmp_path: Path) -> None:
    write(tmp_path, PYTEST_PROJECT)
    ws = Workspace(tmp_path)
    run_tool(ws, "run_tests", {"tests": ["tests/test_calc.py::test_ok"]})
    cached = ws.state[STATE_KEY]
    assert cached.kind == "pytest" and cached.argv[0] == sys.executable
    (tmp_path / "package.json").write_text('{"scripts": {"test": "node --test"}}')
    assert run_tool(ws, "run_tests", {"tests": ["tests/test_calc.py::test_ok"]}).data["runner"] == "pytest"


def test_detection_priorities(tmp_path: Path) -> None:
    js = write(tmp_path / "js", {"package.json": '{"scripts": {"test": "jest"}}', "tools/test_gen.py": ""})
    assert testrun_detect.detect(js, None, sys.executable).kind == "npm"  # type: ignore[union-attr]
    node = write(tmp_path / "node", {"package.json": '{"scripts": {"test": "NODE_ENV=test node --test"}}'})
    runner = testrun_detect.detect(node, None, sys.executable)
    assert runner is not None and runner.kind == "node" and runner.env == {"NODE_ENV": "test"}
    gomod = write(tmp_path / "go", {"go.mod": "module x\n"})
    assert testrun_detect.detect(gomod, None, sys.executable).kind == "go"  # type: ignore[union-attr]
    assert testrun_detect.detect(gomod, "make check", sys.executable).kind == "command"  # type: ignore[union-attr]


def test_tool_schema_describes_tests() -> None:
    from coder_tools.registry import all_tools

    schema = all_tools()["run_tests"].schema()["function"]["parameters"]
    assert "tests" in schema["properties"] and "description" in schema["properties"]["tests"]
    assert run_tool(Workspace(Path(".")), "run_tests", {"bogus": 1}).ok is False
