"""Every tasks/ task checked both ways: its tests fail on the buggy repo and pass with the reference fix."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from coder.config import SandboxConfig
from coder.eval import taskspec
from coder.eval.check import check_task
from coder.eval.sandboxing import DEFAULT_TOOLCHAIN, SandboxPlan, plan_sandboxes
from coder.eval.tasks import from_task_dir
from coder.eval.taskspec import load_task

TASKS_DIR = Path(__file__).resolve().parents[2] / "tasks"
TASK_DIRS = sorted(p for p in TASKS_DIR.iterdir() if (p / "task.yaml").is_file())
TOOLCHAIN = {"python": None, "javascript": "node", "go": "go"}
SOLUTION_TOOLS = {
    "view_file": {"path", "start_line", "end_line"},
    "grep": {"pattern", "path", "include"},
    "edit_file": {"path", "command", "old", "new"},
    "run_tests": {"tests"},
    "submit": {"summary"},
}
GIT_ENV = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.com", "GIT_CONFIG_NOSYSTEM": "1"}


def git(repo: Path, *args: str) -> str:
    proc = subprocess.run(["git", *args], cwd=repo, env={**os.environ, **GIT_ENV}, capture_output=True, text=True)
    assert proc.returncode == 0, f"git {' '.join(args)}: {proc.stderr}"
    return proc.stdout


def load(task_dir: Path) -> dict[str, Any]:
    """task.yaml, validated by coder's TaskSpec, as a dict."""
    return load_task(task_dir).model_dump()


def solution(task_dir: Path) -> dict[str, Any]:
    return json.loads((task_dir / "solution.json").read_text(encoding="utf-8"))


def needs_toolchain(task: dict[str, Any]) -> None:
    tool = TOOLCHAIN[task["language"]]
    if tool is not None and shutil.which(tool) is None:
        pytest.skip(f"{tool} is not installed")


def checkout(task_dir: Path, tmp_path: Path) -> Path:
    """A committed git copy of the task's buggy repo."""
    return taskspec.checkout(task_dir, tmp_path / "repo")


def edit_calls(task_dir: Path) -> list[dict[str, Any]]:
    return [c["arguments"] for c in solution(task_dir)["calls"] if c["name"] == "edit_file"]


ids = [p.name for p in TASK_DIRS]


def test_task_set_covers_languages() -> None:
    languages = [load(p)["language"] for p in TASK_DIRS]
    assert languages.count("python") >= 5 and languages.count("javascript") >= 2 and languages.count("go") >= 1
    assert not [p for p in TASKS_DIR.rglob(".git")], "no nested git repos inside tasks/"


@pytest.mark.parametrize("task_dir", TASK_DIRS, ids=ids)
def test_task_files_are_well_formed(task_dir: Path) -> None:
    task = load(task_dir)
    assert set(task) <= set(taskspec.TaskSpec.model_fields)
    assert task["id"] == task_dir.name and task["language"] in TOOLCHAIN
    assert isinstance(task["issue"], str) and len(task["issue"].strip().splitlines()) >= 3
    f2p, p2p = task["fail_to_pass"], task["pass_to_pass"]
    assert f2p and p2p and all(isinstance(t, str) for t in f2p + p2p)
    assert not set(f2p) & set(p2p) and len(set(f2p + p2p)) == len(f2p + p2p)
    assert (task_dir / "fix.patch").read_text().startswith("diff --git a/")
    sol = solution(task_dir)
    assert sol["plan"] and all(isinstance(s, str) and s for s in sol["plan"])
    calls = sol["calls"]
    assert calls[-1]["name"] == "submit" and any(c["name"] == "run_tests" for c in calls)
    for call in calls:
        assert call["name"] in SOLUTION_TOOLS, call
        assert set(call["arguments"]) <= SOLUTION_TOOLS[call["name"]], call
    assert all(e["command"] == "replace" for e in edit_calls(task_dir))


@pytest.mark.parametrize("task_dir", TASK_DIRS, ids=ids)
def test_solution_edits_reproduce_the_fix(task_dir: Path, tmp_path: Path) -> None:
    """Applying the solution's replacements by hand gives the same tree as git apply fix.patch."""
    by_edits = checkout(task_dir, tmp_path / "edits")
    for edit in edit_calls(task_dir):
        path = by_edits / edit["path"]
        text = path.read_text(encoding="utf-8")
        assert text.count(edit["old"]) == 1, f"{edit['path']}: old must occur exactly once"
        path.write_text(text.replace(edit["old"], edit["new"]), encoding="utf-8")
    by_patch = checkout(task_dir, tmp_path / "patch")
    git(by_patch, "apply", str(task_dir / "fix.patch"))
    assert git(by_edits, "diff") == git(by_patch, "diff")


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["local", pytest.param("docker", marks=pytest.mark.docker)])
@pytest.mark.parametrize("task_dir", TASK_DIRS, ids=ids)
def test_task_fails_before_and_passes_after_fix(task_dir: Path, kind: str, request: pytest.FixtureRequest) -> None:
    """The same check as `coder eval --check` (coder.eval.check), in both sandboxes."""
    if kind == "local":
        needs_toolchain(load(task_dir))
        plan = SandboxPlan("local")
    else:
        images = request.getfixturevalue("docker_images")
        plan = plan_sandboxes(SandboxConfig(kind="docker", image=images["plain"]), DEFAULT_TOOLCHAIN)[0]
    report = check_task(from_task_dir(task_dir), plan)
    assert report.ok, report.problems