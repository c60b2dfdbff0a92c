"""Task directories (tasks/<id>/task.yaml + repo/ + fix.patch + solution.json): loading, validation, checkout."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field

from .task import Task

_GIT_IDENTITY = {"GIT_AUTHOR_NAME": "coder", "GIT_AUTHOR_EMAIL": "coder@localhost",
                 "GIT_COMMITTER_NAME": "coder", "GIT_COMMITTER_EMAIL": "coder@localhost"}


class TaskSpec(BaseModel):
    """task.yaml: what to fix and which tests decide whether it was fixed."""

    model_config = ConfigDict(extra="forbid")
    id: str
    language: Literal["python", "javascript", "typescript", "go", "rust", "java", "c", "cpp"]
    issue: str
    test_command: str | None = None
    fail_to_pass: list[str] = Field(min_length=1)
    pass_to_pass: list[str] = Field(default_factory=list)
    difficulty: Literal["easy", "medium", "hard"] | None = None
    tags: list[Literal["one-line", "multi-file", "find-failing-test", "vague-issue", "cross-module"]] = Field(
        default_factory=list)


class ScriptedSolution(BaseModel):
    """solution.json: a plan and the tool calls a good agent would make."""

    model_config = ConfigDict(extra="forbid")
    plan: list[str]
    calls: list[dict[str, Any]]


def load_task(task_dir: Path) -> TaskSpec:
    return TaskSpec.model_validate(yaml.safe_load((task_dir / "task.yaml").read_text(encoding="utf-8")))


def load_solution(task_dir: Path) -> ScriptedSolution:
    return ScriptedSolution.model_validate(json.loads((task_dir / "solution.json").read_text(encoding="utf-8")))


def task_dirs(root: Path) -> list[Path]:
    """Every task directory under ROOT, sorted by name."""
    return sorted(p for p in root.iterdir() if (p / "task.yaml").is_file())


def checkout(task_dir: Path, dest: Path) -> Path:
    """A committed git copy of the task's buggy repo at DEST."""
    shutil.copytree(task_dir / "repo", dest)
    env = {**os.environ, **_GIT_IDENTITY}
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-q", "--no-verify", "-m", "buggy"]):
        subprocess.run(["git", *args], cwd=dest, env=env, check=True, capture_output=True)
    return dest


def as_task(spec: TaskSpec, repo: Path) -> Task:
    return Task(repo=repo, issue=spec.issue, test_command=spec.test_command)
