"""`coder tasks import`: task folders from the bug-fix commits of a git repository.

A bug-fix commit that changes source files and test files together makes a task: the starting state is its parent with
the commit's test changes (so the new tests fail), the reference fix is the rest of the commit, and fail_to_pass and
pass_to_pass come from running the whole suite both ways in a sandbox (a fail_to_pass test must have run and failed
before the fix: one that could not run tests a new feature). The starting state is a commit object kept
reachable under refs/coder-tasks/ in the repository; no branch, index or working tree changes.
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import get_args

import yaml

from coder_tools.risk import is_test_path
from coder_tools.treesitter import language_for

from .grade import GradingError, passes, run_task_tests
from .sandboxing import SandboxPlan
from .tasks import EvalTask
from .taskspec import Language, TaskSpecError, export_revision

REF_PREFIX = "refs/coder-tasks/"
_GIT_ENV = {"GIT_AUTHOR_NAME": "coder", "GIT_AUTHOR_EMAIL": "coder@localhost", "GIT_COMMITTER_NAME": "coder",
            "GIT_COMMITTER_EMAIL": "coder@localhost", "GIT_CONFIG_NOSYSTEM": "1", "GIT_TERMINAL_PROMPT": "0"}
SCAN_PER_TASK = 20  # commits looked at per task asked for, at most


class TaskImportError(TaskSpecError):
    """The repository cannot be imported from (not a git repository, no commit)."""


@dataclass(frozen=True)
class Imported:
    """One commit looked at: the task made from it, or why none was."""

    commit: str
    subject: str
    task_dir: Path | None = None
    skipped: str = ""


def _git(repo: Path, *args: str, env: dict[str, str] | None = None, stdin: str | None = None) -> str:
    proc = subprocess.run(["git", "-c", "core.autocrlf=false", *args], cwd=repo, input=stdin, capture_output=True,
                          text=True, errors="surrogateescape", env={**os.environ, **_GIT_ENV, **(env or {})})
    if proc.returncode != 0:
        raise TaskImportError(f"git {' '.join(args[:2])} failed in {repo}: {proc.stderr.strip()[-300:]}")
    return proc.stdout


def language_of_changes(paths: list[str]) -> str | None:
    """The task language: the most common one among the changed source files that coder can run."""
    known = set(get_args(Language))
    counts = Counter(lang if lang != "tsx" else "typescript" for p in paths if (lang := language_for(Path(p))))
    for lang, _ in counts.most_common():
        if lang in known:
            return lang
    return None


def _starting_commit(repo: Path, commit: str, parent: str, tests: list[str]) -> str:
    """A commit object: PARENT plus COMMIT's changes to TESTS, made with a temporary index, kept under refs/coder-tasks/."""
    with tempfile.TemporaryDirectory(prefix="coder-import-") as tmp:
        env = {"GIT_INDEX_FILE": str(Path(tmp) / "index")}
        _git(repo, "read-tree", parent, env=env)
        patch = _git(repo, "diff", "--binary", "--no-renames", parent, commit, "--", *tests)
        _git(repo, "apply", "--cached", "--binary", env=env, stdin=patch)
        tree = _git(repo, "write-tree", env=env).strip()
    start = _git(repo, "commit-tree", tree, "-p", parent, "-m", f"coder task: {commit[:12]}^ with its tests").strip()
    _git(repo, "update-ref", f"{REF_PREFIX}{commit}", start)
    return start


def suite_outcomes(task_id: str, language: str, repo: Path, plan: SandboxPlan, timeout: float) -> dict[str, str]:
    """Every test's outcome when the whole suite of REPO runs in PLAN's sandbox, as the grader runs it."""
    probe = EvalTask(id=task_id, language=language, issue="", fail_to_pass=())
    plan.prepare(probe, repo)
    outcomes, _ = run_task_tests(probe, repo, plan.sandbox(task_id), timeout)
    return outcomes


def import_commit(repo: Path, commit: str, out: Path, plan: SandboxPlan, timeout: float = 300.0) -> Imported:
    """The task made from COMMIT (written under OUT), or why it makes none."""
    subject = _git(repo, "log", "-1", "--format=%s", commit).strip()
    parents = _git(repo, "log", "-1", "--format=%P", commit).split()
    if len(parents) != 1:
        return Imported(commit, subject, skipped="a merge or root commit")
    parent = parents[0]
    changed = [p for p in _git(repo, "diff", "--name-only", "--no-renames", "-z", parent, commit).split("\0") if p]
    tests = [p for p in changed if is_test_path(p)]
    sources = [p for p in changed if not is_test_path(p)]
    language = language_of_changes(sources)
    if not tests or not sources or language is None:
        return Imported(commit, subject, skipped="does not change both tests and source code")
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", repo.resolve().name).strip("-.") or "repo"
    task_id = f"{name}-{commit[:10]}"
    start = _starting_commit(repo, commit, parent, tests)
    fix = _git(repo, "diff", "--binary", "--no-renames", start, commit)
    with tempfile.TemporaryDirectory(prefix="coder-import-") as tmp:
        try:
            before = suite_outcomes(task_id, language, export_revision(repo, start, Path(tmp) / "before"), plan,
                                    timeout)
            after = suite_outcomes(task_id, language, export_revision(repo, commit, Path(tmp) / "after"), plan, timeout)
        except GradingError as exc:
            return Imported(commit, subject, skipped=str(exc))
    # A bug fix's test ran and failed before it; one that could not run (it imports what the commit adds) tests a
    # new feature, so it does not make a task here, though the grader's rule would accept it.
    fail_to_pass = sorted(t for t, o in after.items() if passes(o) and before.get(t) in ("failed", "error"))
    pass_to_pass = sorted(t for t, o in after.items() if passes(o) and passes(before.get(t, "missing")))
    if not fail_to_pass:
        return Imported(commit, subject, skipped="no test fails before the fix and passes after it")
    task_dir = out / task_id
    task_dir.mkdir(parents=True, exist_ok=True)
    message = _git(repo, "log", "-1", "--format=%B", commit).strip()
    spec = {"id": task_id, "language": language, "issue": message, "repo": str(repo.resolve()), "commit": start,
            "source": f"{repo.resolve()} {commit}", "fail_to_pass": fail_to_pass, "pass_to_pass": pass_to_pass}
    (task_dir / "task.yaml").write_text(yaml.safe_dump(spec, sort_keys=False, allow_unicode=True), encoding="utf-8")
    (task_dir / "fix.patch").write_text(fix, encoding="utf-8", errors="surrogateescape")
    return Imported(commit, subject, task_dir=task_dir)


def import_commits(repo: Path, out: Path, plan: SandboxPlan, last: int, timeout: float = 300.0,
                   progress: Callable[[Imported], None] = lambda _: None) -> list[Imported]:
    """Tasks from the newest bug-fix commits on REPO's HEAD, until LAST are made (or SCAN_PER_TASK x LAST looked at)."""
    if not (repo / ".git").exists() and _git_dir(repo) is None:
        raise TaskImportError(f"{repo} is not a git repository")
    commits = _git(repo, "log", "--no-merges", "--format=%H", f"-n{SCAN_PER_TASK * last}", "HEAD").split()
    seen: list[Imported] = []
    for commit in commits:
        result = import_commit(repo, commit, out, plan, timeout)
        seen.append(result)
        progress(result)
        if sum(1 for s in seen if s.task_dir is not None) >= last:
            break
    return seen


def _git_dir(repo: Path) -> str | None:
    proc = subprocess.run(["git", "rev-parse", "--git-dir"], cwd=repo, capture_output=True, text=True)
    return proc.stdout.strip() if proc.returncode == 0 else None
