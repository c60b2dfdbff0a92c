"""`coder tasks import-exercises`: task folders from a directory of exercises, each a stub (or buggy program) with its
tests and a reference solution beside it.

Each exercise is a subdirectory. Its files, less the solution directory, are the starting state (the task's repo/);
the solution directory's files, laid over them by relative path, are the fixed state, and their difference is
fix.patch. The whole suite runs both ways in a sandbox: fail_to_pass is every test that does not pass on the stub (a
test that cannot even run because the stub lacks a name counts, by the grader's rule) and passes with the solution;
pass_to_pass passes both times.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

import yaml

from .grade import GradingError, passes
from .importing import Imported, language_of_changes, suite_outcomes
from .sandboxing import SandboxPlan
from .taskspec import TaskSpecError, commit_all

ISSUE_FILES = ("README.md", "README", "instructions.md", ".docs/instructions.md", "ISSUE.md")


def _copy(source: Path, dest: Path, skip: str) -> None:
    shutil.copytree(source, dest, ignore=lambda d, names: [n for n in names if Path(d, n) == source / skip
                                                            or n in (".git", "__pycache__", "node_modules")])


def _issue(exercise: Path) -> str:
    for name in ISSUE_FILES:
        path = exercise / name
        if path.is_file():
            text = path.read_text(encoding="utf-8", errors="replace").strip()
            if text:
                return text
    return f"{exercise.name}: make its tests pass."


def import_exercise(exercise: Path, out: Path, plan: SandboxPlan, solution: str, timeout: float = 300.0) -> Imported:
    """The task made from EXERCISE (written under OUT), or why it makes none."""
    if not (exercise / solution).is_dir():
        return Imported(exercise.name, exercise.name, skipped=f"no {solution}/ directory with the reference solution")
    with tempfile.TemporaryDirectory(prefix="coder-exercise-") as tmp:
        stub, fixed = Path(tmp) / "stub", Path(tmp) / "fixed"
        _copy(exercise, stub, solution)
        commit_all(stub, "stub")
        subprocess.run(["git", "clone", "-q", str(stub), str(fixed)], check=True, capture_output=True)
        shutil.copytree(exercise / solution, fixed, dirs_exist_ok=True)
        subprocess.run(["git", "add", "-A"], cwd=fixed, check=True, capture_output=True)
        fix = subprocess.run(["git", "-c", "core.autocrlf=false", "diff", "--cached", "--binary", "--no-renames"],
                             cwd=fixed, check=True, capture_output=True, text=True, errors="surrogateescape").stdout
        changed = [line.split(" b/", 1)[-1] for line in fix.splitlines() if line.startswith("diff --git a/")]
        language = language_of_changes(changed)
        if not fix.strip() or language is None:
            return Imported(exercise.name, exercise.name, skipped="the solution changes no source file coder can run")
        task_id = exercise.name
        try:
            before = suite_outcomes(task_id, language, stub, plan, timeout)
            after = suite_outcomes(task_id, language, fixed, plan, timeout)
        except (GradingError, TaskSpecError) as exc:
            return Imported(exercise.name, exercise.name, skipped=str(exc))
        fail_to_pass = sorted(t for t, o in after.items() if passes(o) and not passes(before.get(t, "missing")))
        pass_to_pass = sorted(t for t, o in after.items() if passes(o) and passes(before.get(t, "missing")))
        if not fail_to_pass:
            return Imported(exercise.name, exercise.name, skipped="no test fails on the stub and passes with the solution")
        task_dir = out / task_id
        if task_dir.exists():
            shutil.rmtree(task_dir)
        task_dir.mkdir(parents=True)
        _copy(exercise, task_dir / "repo", solution)
    spec = {"id": task_id, "language": language, "issue": _issue(exercise), "source": str(exercise.resolve()),
            "fail_to_pass": fail_to_pass, "pass_to_pass": pass_to_pass}
    (task_dir / "task.yaml").write_text(yaml.safe_dump(spec, sort_keys=False, allow_unicode=True), encoding="utf-8")
    (task_dir / "fix.patch").write_text(fix, encoding="utf-8", errors="surrogateescape")
    return Imported(exercise.name, exercise.name, task_dir=task_dir)


def import_exercises(root: Path, out: Path, plan: SandboxPlan, solution: str = "solution", timeout: float = 300.0,
                     progress: Callable[[Imported], None] = lambda _: None) -> list[Imported]:
    """A task per exercise subdirectory of ROOT that has a SOLUTION directory."""
    if not root.is_dir():
        raise TaskSpecError(f"{root} is not a directory of exercises")
    results = []
    for exercise in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        result = import_exercise(exercise, out, plan, solution, timeout)
        results.append(result)
        progress(result)
    return results
