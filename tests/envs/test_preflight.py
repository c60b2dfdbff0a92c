"""The preflight judge: which baseline test runs stop a run before the model is called, and what they say."""

from __future__ import annotations

import venv
from pathlib import Path
from typing import Any

import pytest

from coder.envs.preflight import ESCAPE, PREFIX, judge
from coder_tools.base import ToolResult, Workspace, WorkspaceOptions
from coder_tools.testrun import RunTestsArgs, run_tests

TEST_ADD = "from calc import add\n\n\ndef test_add():\n    assert add(1, 2) == 3\n"


def result(runner: str | None = "pytest", code: int | None = 2, tests: dict[str, str] | None = None,
           failures: dict[str, str] | None = None, output: str = "", ok: bool = True, **extra: Any) -> ToolResult:
    """A run_tests result shaped like the tool's (testrun._result)."""
    tests = tests or {}
    data: dict[str, Any] = {"runner": runner, "command": "python -m pytest -q", "exit_code": code,
                            "passed": sum(v == "passed" for v in tests.values()),
                            "failed": sum(v == "failed" for v in tests.values()),
                            "errors": sum(v == "error" for v in tests.values()), "skipped": 0, "tests": tests,
                            "failures": [{"id": k, "message": v} for k, v in (failures or {}).items()], **extra}
    return ToolResult(ok=ok, output=output, data=data)


def live(repo: Path, python: str | None = None, command: str | None = None) -> ToolResult:
    """The real run_tests tool on REPO (no sandbox needed: the judge only reads its result)."""
    return run_tests(RunTestsArgs(), Workspace(repo, WorkspaceOptions(test_command=command, python=python,
                                                                      bash_timeout=60)))


def write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


# ---------------------------------------------------------------- runs that must stop

def test_no_runner_stops_and_names_tests_command() -> None:
    problem = judge(ToolResult(ok=False, output="No test runner detected.", data={"runner": None}))
    assert problem is not None and problem.kind == "no_runner"
    assert problem.message.startswith(PREFIX) and "tests.command" in problem.message and ESCAPE in problem.message


def test_a_runner_that_cannot_start_stops() -> None:
    data = {"runner": "go", "command": "go test -json ./..."}
    problem = judge(ToolResult(ok=False, output="Could not start the go runner (go: not found).", data=data))
    assert problem is not None and problem.kind == "runner_missing" and "go test" in problem.message


@pytest.mark.parametrize("code", [5, 0])
def test_zero_tests_collected_stops(code: int) -> None:
    problem = judge(result(code=code, output="no tests ran"))
    assert problem is not None and problem.kind == "no_tests" and f"exit code {code}" in problem.message


def test_unittest_fallback_because_pytest_is_missing_stops() -> None:
    note = "pytest is not installed for this Python, so the tests ran with unittest, which only finds ..."
    problem = judge(result(runner="unittest", code=0, note=note))
    assert problem is not None and problem.kind == "pytest_missing"
    assert "pip install pytest" in problem.message and "tests.command" in problem.message


def test_every_test_erroring_on_a_third_party_module_names_the_package(tmp_path: Path) -> None:
    repo = write(tmp_path, {"calc.py": "import requestz\n", "tests/test_calc.py": TEST_ADD})
    note = "collection failure\ncalc.py:1: in <module>\n    import requestz\nE   ModuleNotFoundError: No module named 'requestz'"
    problem = judge(result(tests={"tests/test_calc.py": "error"}, failures={"tests/test_calc.py": note}), repo)
    assert problem is not None and problem.kind == "missing_module"
    assert "'requestz'" in problem.message and "pip install requestz" in problem.message
    assert "sandbox.setup" in problem.message and "tests.command" in problem.message

def test_a_module_whose_package_is_named_differently_suggests_the_package(tmp_path: Path) -> None:
    repo = write(tmp_path, {"conf.py": "import yaml\n", "tests/test_calc.py": TEST_ADD})
    note = "conf.py:1: in <module>\n    import yaml\nE   ModuleNotFoundError: No module named 'yaml'"
    problem = judge(result(tests={"tests/test_calc.py": "error"}, failures={"tests/test_calc.py": note}), repo)
    assert problem is not None and "'yaml'" in problem.message and "pip install PyYAML" in problem.message



def test_a_missing_module_in_conftest_with_no_results_stops(tmp_path: Path) -> None:
    tail = ("Exit code 4; no test results could be read. Output tail:\nImportError while loading conftest "
            "'/w/conftest.py'.\nE   ModuleNotFoundError: No module named 'yaml'")
    problem = judge(result(code=4, output=tail), write(tmp_path, {"conftest.py": "import yaml\n"}))
    assert problem is not None and "'yaml'" in problem.message


def test_the_repositorys_own_package_that_is_not_installed_says_install_the_project(tmp_path: Path) -> None:
    repo = write(tmp_path, {"src/mypkg/__init__.py": "", "tests/test_x.py": "from mypkg import add\n"})
    note = "collection failure\nE   ModuleNotFoundError: No module named 'mypkg'"
    problem = judge(result(tests={"tests/test_x.py": "error"}, failures={"tests/test_x.py": note}), repo)
    assert problem is not None and problem.kind == "repo_not_installed" and "pip install -e ." in problem.message


@pytest.mark.parametrize("runner, note, kind, named", [
    ("node", "Error: Cannot find module 'lodash/fp'\nRequire stack:", "missing_module", "'lodash'"),
    ("node", "Error [ERR_MODULE_NOT_FOUND]: Cannot find package '@scope/util' imported from /w/a.js",
     "missing_module", "'@scope/util'"),
    ("go", "wc.go:2:8: no required module provides package github.com/foo/bar; to add it:", "missing_module",
     "github.com/foo/bar"),
    ("go", "wc.go:2:8: missing go.sum entry for module providing package golang.org/x/text", "missing_module",
     "golang.org/x/text"),
])
def test_other_languages_missing_dependencies_stop(runner: str, note: str, kind: str, named: str) -> None:
    problem = judge(result(runner=runner, code=1, tests={"t": "error"}, failures={"t": note}))
    assert problem is not None and problem.kind == kind and named in problem.message


def test_cargo_offline_fetch_failure_stops() -> None:
    tail = ("Exit code 101; no test results could be read. Output tail:\nerror: failed to get `serde` as a "
            "dependency of package `x v0.1.0`\n  attempting to make an HTTP request, but --offline was specified")
    problem = judge(result(runner="cargo", code=101, output=tail))
    assert problem is not None and problem.kind == "fetch_failed" and "`serde`" in problem.message


@pytest.mark.parametrize("output", ["sh: 1: jest: not found", "/bin/sh: line 1: jest: command not found"])
def test_exit_code_only_command_not_found_stops(output: str) -> None:
    problem = judge(result(runner="npm", code=127, output=f"Command exited with 127 (failed)\n\n{output}",
                           tests={}, passed=0, failed=1))
    assert problem is not None and problem.kind == "missing_program" and "`jest`" in problem.message


def test_exit_127_of_a_configured_command_stops_even_without_a_message() -> None:
    problem = judge(result(runner="command", code=127, output="Command exited with 127 (failed)", failed=1))
    assert problem is not None and problem.kind == "missing_program"


def test_a_pytest_plugin_option_without_the_plugin_stops() -> None:
    tail = "__main__.py: error: unrecognized arguments: --cov=calc\n  inifile: /w/pytest.ini"
    problem = judge(result(code=4, output=tail))
    assert problem is not None and problem.kind == "runner_usage" and "--cov=calc" in problem.message


def test_a_missing_shared_library_stops() -> None:
    note = "E   ImportError: libGL.so.1: cannot open shared object file: No such file or directory"
    problem = judge(result(tests={"t.py": "error"}, failures={"t.py": note}))
    assert problem is not None and problem.kind == "missing_library" and "libGL.so.1" in problem.message


# ---------------------------------------------------------------- runs that are the agent's work

def test_a_syntax_error_in_the_repositorys_own_code_does_not_stop(tmp_path: Path) -> None:
    repo = write(tmp_path, {"calc.py": "def add(a, b) return a - b\n", "tests/test_calc.py": TEST_ADD})
    run = live(repo)
    assert run.data["errors"] >= 1 and run.data["passed"] == 0  # every test errors...
    assert judge(run, repo) is None  # ...but the cause is the repository's own code


def test_a_module_the_repository_should_have_but_lacks_does_not_stop(tmp_path: Path) -> None:
    repo = write(tmp_path, {"calc/__init__.py": "", "tests/test_calc.py": "import calc.parser\n\ndef test_p(): pass\n"})
    run = live(repo)
    assert "No module named 'calc.parser'" in run.output
    assert judge(run, repo) is None


def test_cannot_import_a_name_from_the_repository_does_not_stop(tmp_path: Path) -> None:
    repo = write(tmp_path, {"calc.py": "def sub(a, b): return a - b\n", "tests/test_calc.py": TEST_ADD})
    assert judge(live(repo), repo) is None


def test_a_broken_conftest_of_the_repository_does_not_stop(tmp_path: Path) -> None:
    repo = write(tmp_path, {"calc.py": "def add(a, b): return a - b\n", "conftest.py": "x = (\n",
                            "tests/test_calc.py": TEST_ADD})
    run = live(repo)
    assert run.data["tests"] == {} and run.data["exit_code"] not in (0, 5)
    assert judge(run, repo) is None


@pytest.mark.parametrize("note", ["Error: Cannot find module '../add'", "Cannot find module 'mylib/util'"])
def test_node_requires_of_the_repositorys_own_files_do_not_stop(tmp_path: Path, note: str) -> None:
    repo = write(tmp_path, {"package.json": '{"name": "mylib"}'})
    assert judge(result(runner="node", code=1, tests={"t": "error"}, failures={"t": note}), repo) is None


def test_a_go_package_of_the_module_itself_does_not_stop(tmp_path: Path) -> None:
    repo = write(tmp_path, {"go.mod": "module example.com/wc\n\ngo 1.21\n"})
    tail = "wc.go:2:8: cannot find module providing package example.com/wc/newpkg: module lookup disabled"
    assert judge(result(runner="go", code=1, output=tail), repo) is None


def test_failing_assertions_and_a_passing_test_do_not_stop(tmp_path: Path) -> None:
    assert judge(result(code=1, tests={"a": "failed"}, failures={"a": "assert -1 == 3"})) is None
    missing = "E   ModuleNotFoundError: No module named 'requestz'"
    mixed = result(code=1, tests={"a": "passed", "b": "error"}, failures={"b": missing})
    assert judge(mixed) is None  # some tests run: the agent can work, and sees the error
    both = result(code=1, tests={"a": "failed", "b": "error"}, failures={"a": "assert 1 == 2", "b": missing})
    assert judge(both) is None


def test_a_timeout_does_not_stop() -> None:
    assert judge(result(code=None, ok=False, output="Tests did not finish within 60s")) is None


def test_a_real_run_whose_python_lacks_pytest_stops(tmp_path: Path) -> None:
    venv.create(tmp_path / "bare", with_pip=False)  # an interpreter that cannot import pytest
    repo = write(tmp_path / "repo", {"calc.py": "def add(a, b): return a - b\n", "tests/test_calc.py": TEST_ADD})
    problem = judge(live(repo, python=str(tmp_path / "bare" / "bin" / "python")), repo)
    assert problem is not None and problem.kind == "pytest_missing"


def test_every_message_is_one_line() -> None:
    for run in (result(code=5), result(runner="unittest", code=0, note="pytest is not installed")):
        problem = judge(run)
        assert problem is not None and "\n" not in problem.message
