"""`coder eval --check`: task folders made here (not tasks/) checked both ways, in the local and the Docker sandbox,
with the grader's one rule (only a reported pass is a pass; a test that never ran is not passing)."""

from __future__ import annotations

from pathlib import Path

import pytest

from coder.cli import main
from coder.config import SandboxConfig
from coder.eval.check import check_task, judge
from coder.eval.sandboxing import DEFAULT_TOOLCHAIN, SandboxPlan, plan_sandboxes
from coder.eval.tasks import EvalTask, from_task_dir

CALC = "def add(a, b):\n    return a - b\n"
TESTS = ("from calc import add\n\n\ndef test_add():\n    assert add(2, 3) == 5\n\n\n"
         "def test_zero():\n    assert add(0, 0) == 0\n")
FIX = ("diff --git a/calc.py b/calc.py\n--- a/calc.py\n+++ b/calc.py\n@@ -1,2 +1,2 @@\n def add(a, b):\n"
       "-    return a - b\n+    return a + b\n")


def make_task(root: Path, name: str, yaml_tail: str, files: dict[str, str] | None = None, fix: str = FIX) -> Path:
    task_dir = root / name
    for rel, text in {"calc.py": CALC, "tests/test_calc.py": TESTS, **(files or {})}.items():
        (task_dir / "repo" / rel).parent.mkdir(parents=True, exist_ok=True)
        (task_dir / "repo" / rel).write_text(text)
    (task_dir / "task.yaml").write_text(f"id: {name}\nlanguage: python\nissue: add() subtracts\n{yaml_tail}")
    if fix:
        (task_dir / "fix.patch").write_text(fix)
    return task_dir


GOOD = "fail_to_pass: ['tests/test_calc.py::test_add']\npass_to_pass: ['tests/test_calc.py::test_zero']\n"


@pytest.fixture(params=["local", pytest.param("docker", marks=pytest.mark.docker)])
def plan(request: pytest.FixtureRequest) -> SandboxPlan:
    if request.param == "local":
        return SandboxPlan("local")
    images = request.getfixturevalue("docker_images")
    return plan_sandboxes(SandboxConfig(kind="docker", image=images["plain"]), DEFAULT_TOOLCHAIN)[0]


def test_a_good_task_passes_the_check(tmp_path: Path, plan: SandboxPlan) -> None:
    report = check_task(from_task_dir(make_task(tmp_path, "good", GOOD)), plan)
    assert report.ok, report.problems
    assert report.before == {"tests/test_calc.py::test_add": "failed", "tests/test_calc.py::test_zero": "passed"}
    assert set(report.after.values()) == {"passed"}
    assert report.line() == "ok  good: 1 fail->pass, 1 pass->pass"


def test_a_broken_task_is_reported_with_each_problem(tmp_path: Path, plan: SandboxPlan) -> None:
    """A fail_to_pass test that already passes, a pass_to_pass test that fails, and an id that names no test."""
    yaml_tail = ("fail_to_pass: ['tests/test_calc.py::test_zero', 'tests/test_calc.py::test_typo']\n"
                 "pass_to_pass: ['tests/test_calc.py::test_add']\n")
    report = check_task(from_task_dir(make_task(tmp_path, "broken", yaml_tail)), plan)
    assert not report.ok and report.line().startswith("BAD broken: ")
    assert "fail_to_pass tests/test_calc.py::test_zero passes on the buggy repo" in report.problems
    assert "pass_to_pass tests/test_calc.py::test_add is failed on the buggy repo" in report.problems
    assert "tests/test_calc.py::test_typo names no test the runner reports (before or after the fix)" in report.problems


def test_a_test_that_never_ran_on_the_buggy_repo_counts_as_failing_as_in_the_grader(tmp_path: Path,
                                                                                     plan: SandboxPlan) -> None:
    """The test imports a name the buggy code lacks (a collection error): not passing before, so a fine
    fail_to_pass test; the grader applies the same rule (only a reported pass is a pass)."""
    stub = "def add(a, b):\n    return a - b\n"
    tests = TESTS.replace("from calc import add", "from calc import add, mul") + (
        "\n\ndef test_mul():\n    assert mul(2, 3) == 6\n")
    fix = ("diff --git a/calc.py b/calc.py\n--- a/calc.py\n+++ b/calc.py\n@@ -1,2 +1,6 @@\n def add(a, b):\n"
           "-    return a - b\n+    return a + b\n+\n+\n+def mul(a, b):\n+    return a * b\n")
    yaml_tail = "fail_to_pass: ['tests/test_calc.py::test_add', 'tests/test_calc.py::test_mul']\npass_to_pass: []\n"
    task_dir = make_task(tmp_path, "stub", yaml_tail, {"calc.py": stub, "tests/test_calc.py": tests}, fix)
    report = check_task(from_task_dir(task_dir), plan)
    assert report.ok, report.problems
    assert report.before["tests/test_calc.py::test_mul"] == "missing"


def test_the_rule_in_one_place() -> None:
    task = EvalTask(id="t", language="python", issue="x", fail_to_pass=("a", "b"), pass_to_pass=("c",))
    before = {"a": "error", "b": "skipped", "c": "passed"}
    assert judge(task, before, {"a": "passed", "b": "passed", "c": "passed"}) == []
    assert judge(task, before, {"a": "passed", "b": "skipped", "c": "missing"}) == [
        "b is skipped with fix.patch", "c is missing with fix.patch"]


def test_a_task_without_fix_patch_fails_the_check(tmp_path: Path) -> None:
    report = check_task(from_task_dir(make_task(tmp_path, "nofix", GOOD, fix="")), SandboxPlan("local"))
    assert report.problems == ["no reference fix (fix.patch) to check against"]


def test_the_command_reports_each_task_and_exits_1_when_one_fails(tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    make_task(tmp_path / "tasks", "good", GOOD)
    make_task(tmp_path / "tasks", "bad", "fail_to_pass: ['tests/test_calc.py::test_zero']\npass_to_pass: []\n")
    assert main(["eval", str(tmp_path / "tasks"), "--check", "--sandbox", "local"]) == 1
    out = capsys.readouterr().out
    assert "ok  good: 1 fail->pass" in out and "BAD bad: fail_to_pass tests/test_calc.py::test_zero passes" in out
    assert "1 of 2 task(s) pass the check (local sandbox)" in out
    assert main(["eval", str(tmp_path / "tasks" / "good"), "--check", "--sandbox", "local"]) == 0


def test_check_with_a_model_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    make_task(tmp_path / "tasks", "good", GOOD)
    assert main(["eval", str(tmp_path / "tasks"), "--check", "--model", "x"]) == 2
    assert "--check runs no model" in capsys.readouterr().err


def test_without_pytest_for_the_local_sandbox_the_eval_refuses(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    """The local sandbox runs tests with the active virtualenv's Python; without pytest there it would fall back to
    unittest, whose ids never match, and grade every task unresolved. So the eval refuses, in one line, exit 2."""
    import subprocess
    import sys

    venv = tmp_path / "bare"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    monkeypatch.setenv("VIRTUAL_ENV", str(venv))
    make_task(tmp_path / "tasks", "good", GOOD)
    for extra in (["--check"], ["--no-coder", "--compare", "gold", "--out", str(tmp_path / "out")]):
        assert main(["eval", str(tmp_path / "tasks"), "--sandbox", "local", *extra]) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and "1 task(s) (good) name pytest test ids" in err, err
        assert f"{venv}/bin/python" in err and "--sandbox docker" in err
    assert not (tmp_path / "out").exists()


def test_a_test_command_that_says_python_runs_the_same_in_both_sandboxes(tmp_path: Path, plan: SandboxPlan) -> None:
    """The Docker image links `python` to python3, as the local sandbox's PATH has a virtualenv's `python` first."""
    task_dir = make_task(tmp_path, "says-python", GOOD + "test_command: python -m pytest -q\n")
    report = check_task(from_task_dir(task_dir), plan)
    assert report.ok, report.problems


def test_a_task_whose_bug_hangs_is_checked_with_its_test_timeout(tmp_path: Path, plan: SandboxPlan) -> None:
    """With test_timeout the hanging fail_to_pass test fails on its own (pytest, per test) and the rest still run."""
    files = {"calc.py": "def add(a, b):\n    while True:\n        pass\n\n\ndef mul(a, b):\n    return a * b\n",
             "tests/test_calc.py": "from calc import add, mul\n\n\ndef test_add():\n    assert add(2, 3) == 5\n\n\n"
                                   "def test_mul():\n    assert mul(2, 3) == 6\n"}
    fix = ("diff --git a/calc.py b/calc.py\n--- a/calc.py\n+++ b/calc.py\n@@ -1,6 +1,5 @@\n def add(a, b):\n"
           "-    while True:\n-        pass\n+    return a + b\n \n \n def mul(a, b):\n")
    yaml_tail = ("test_timeout: 2\nfail_to_pass: ['tests/test_calc.py::test_add']\n"
                 "pass_to_pass: ['tests/test_calc.py::test_mul']\n")
    report = check_task(from_task_dir(make_task(tmp_path, "hangs", yaml_tail, files, fix)), plan, timeout=120)
    assert report.ok, report.problems
    assert report.before == {"tests/test_calc.py::test_add": "failed", "tests/test_calc.py::test_mul": "passed"}
