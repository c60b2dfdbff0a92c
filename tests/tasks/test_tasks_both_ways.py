"""Every tasks/ task checked both ways: its tests fail on the buggy repo and pass with the reference fix."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from coder.eval import taskspec
from coder.eval.taskspec import load_task
from coder_tools.base import Workspace, WorkspaceOptions
from coder_tools.server import run_tool

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
BAD = ("failed", "error")


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


def workspace(root: Path, task: dict[str, Any]) -> Workspace:
    return Workspace(root, WorkspaceOptions(test_command=task.get("test_command"), bash_timeout=300))


def outcomes(root: Path, task: dict[str, Any]) -> dict[str, str]:
    result = run_tool(workspace(root, task), "run_tests", {})
    assert result.ok, result.output
    return result.data["tests"]


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
@pytest.mark.parametrize("task_dir", TASK_DIRS, ids=ids)
def test_task_fails_before_and_passes_after_fix(task_dir: Path, tmp_path: Path) -> None:
    task = load(task_dir)
    needs_toolchain(task)
    root = checkout(task_dir, tmp_path)
    before = outcomes(root, task)
    assert {t: before.get(t) for t in task["fail_to_pass"] if before.get(t) not in BAD} == {}
    assert {t: before.get(t) for t in task["pass_to_pass"] if before.get(t) != "passed"} == {}
    git(root, "apply", str(task_dir / "fix.patch"))
    after = outcomes(root, task)
    wanted = task["fail_to_pass"] + task["pass_to_pass"]
    assert {t: after.get(t) for t in wanted if after.get(t) != "passed"} == {}
