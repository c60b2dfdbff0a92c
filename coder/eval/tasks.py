"""The eval's task list: tasks/ directories (task.yaml) and SWE-bench instances, behind one EvalTask shape."""

from __future__ import annotations

import fnmatch
import io
import os
import tarfile
from dataclasses import dataclass, field
from pathlib import Path

from ..sandboxes.repo_copy import repo_files
from .taskspec import TaskSpecError, checkout, commit_all, export_revision, load_task


@dataclass(frozen=True)
class EvalTask:
    """One task as the eval sees it. Plain data (picklable), so Ray can ship it to other machines."""

    id: str
    language: str
    issue: str
    fail_to_pass: tuple[str, ...]
    pass_to_pass: tuple[str, ...] = ()
    test_command: str | None = None
    test_timeout: float | None = None  # seconds per test (pytest, unittest)
    setup: str | None = None
    test_patch: str = ""  # applied in the grading sandbox only (SWE-bench); the agent never sees it
    reference_patch: str = ""  # the known fix (fix.patch, or SWE-bench's `patch`): for the `gold` harness
    difficulty: str | None = None
    source: str = ""  # the task directory or "FILE:LINE" of a SWE-bench instance
    task_dir: str | None = None
    repo_source: str | None = None  # for SWE-bench: the local clone or mirror
    commit: str | None = None
    tags: tuple[str, ...] = field(default_factory=tuple)
    protected: tuple[str, ...] = ()  # task.yaml's `protected` globs: files restored before grading
    protect_test_layout: bool = False  # also restore every test file and test data dir (task.yaml without `protected`)

    def checkout(self, dest: Path) -> Path:
        """A fresh one-commit git repository of the task's starting state at DEST."""
        if self.task_dir is not None:
            return checkout(Path(self.task_dir), dest)
        assert self.repo_source is not None and self.commit is not None
        return export_revision(Path(self.repo_source), self.commit, dest)


def from_task_dir(task_dir: Path) -> EvalTask:
    spec = load_task(task_dir)
    fix = task_dir / "fix.patch"
    return EvalTask(
        id=spec.id, language=spec.language, issue=spec.issue, fail_to_pass=tuple(spec.fail_to_pass),
        pass_to_pass=tuple(spec.pass_to_pass), test_command=spec.test_command, test_timeout=spec.test_timeout,
        setup=spec.setup,
        reference_patch=fix.read_text(encoding="utf-8") if fix.is_file() else "", difficulty=spec.difficulty,
        source=str(task_dir), task_dir=str(task_dir.resolve()), tags=tuple(spec.tags),
        protected=tuple(spec.protected or ()), protect_test_layout=spec.protected is None)


def filter_tasks(tasks: list[EvalTask], patterns: list[str] | None) -> list[EvalTask]:
    """Tasks whose id matches any pattern (exact or glob); a pattern that matches nothing is an error."""
    if not patterns:
        return tasks
    chosen: dict[str, EvalTask] = {}
    for pattern in patterns:
        matched = [t for t in tasks if fnmatch.fnmatchcase(t.id, pattern)]
        if not matched:
            raise TaskSpecError(f"no task matches {pattern!r} (known: {', '.join(t.id for t in tasks[:8])}"
                                f"{', ...' if len(tasks) > 8 else ''})")
        chosen.update((t.id, t) for t in matched)
    return [t for t in tasks if t.id in chosen]


def pack(repo: Path) -> bytes:
    """The checkout's files as a gzipped tar (to ship a task to another machine)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for rel in repo_files(repo):
            tar.add(str(repo / rel), arcname=rel, recursive=False)
    return buffer.getvalue()


def unpack(data: bytes, dest: Path) -> Path:
    """The inverse of pack(): a one-commit git repository at DEST."""
    dest.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        tar.extractall(dest, filter="data")
    commit_all(dest, "starting state", force=True)
    return dest


def run_setup_locally(repo: Path, command: str, timeout: float = 1800) -> None:
    """The local sandbox's take on a task's setup: run it in the checkout and commit everything it produced
    (ignored files too, so node_modules and build output travel into the sandbox copy)."""
    import subprocess

    env = {**os.environ, "HOME": os.environ.get("HOME", str(repo))}
    proc = subprocess.run(["bash", "-c", command], cwd=repo, env=env, capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        raise TaskSpecError(f"setup command `{command}` failed (exit {proc.returncode}): "
                            f"{(proc.stderr or proc.stdout).strip()[-300:]}")
    commit_all(repo, "setup", force=True)
