"""The grader: apply a run's patch to a fresh checkout, restore the tests, run them in a fresh sandbox.

Resolved means every fail->pass test passes and every pass->pass test still passes. The agent's own sandbox is never
trusted: test files it may have edited are restored to their original content (and, for SWE-bench instances, the
instance's test_patch is applied) before the tests run.
"""

from __future__ import annotations

import fnmatch
import os
import subprocess
import tempfile
import time
from pathlib import Path

from coder_tools.risk import is_test_path

from ..errors import CoderError
from ..patch_check import UnsafePatch, check_patch
from ..sandboxes.base import Sandbox, WorkspaceOptions
from .results import GradeResult
from .tasks import EvalTask

PASSED = "passed"
NEVER_RAN = "missing"  # the outcome of an id the runner did not report (a collection error, a missing import, a typo)


def passes(outcome: str) -> bool:
    """The one rule of the grader and of `coder eval --check` (coder.eval.check): only a reported pass is a pass;
    failed, error, skipped and never ran are all not passing."""
    return outcome == PASSED


class GradingError(CoderError):
    """The grader could not run the tests at all (no runner, broken sandbox, bad test_patch): not the run's fault."""


def _git(repo: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "GIT_TERMINAL_PROMPT": "0"}
    return subprocess.run(["git", "-c", "core.autocrlf=false", *args], cwd=repo, env=env, input=stdin,
                          capture_output=True, text=True, errors="surrogateescape")


def _apply(repo: Path, patch: str) -> str | None:
    """git apply PATCH in REPO; None on success, else git's complaint."""
    with tempfile.NamedTemporaryFile("w", suffix=".patch", delete=False, encoding="utf-8",
                                     errors="surrogateescape") as handle:
        handle.write(patch if patch.endswith("\n") else patch + "\n")
    try:
        proc = _git(repo, "apply", "--binary", "--whitespace=nowarn", handle.name)
    finally:
        os.unlink(handle.name)
    return None if proc.returncode == 0 else (proc.stderr.strip() or "git apply failed")[-500:]


def _patched_paths(patch: str) -> list[str]:
    paths = []
    for line in patch.splitlines():
        if line.startswith("diff --git a/"):
            paths.append(line.split(" b/", 1)[-1])
    return paths


def protected_files(task: EvalTask, repo: Path) -> list[str]:
    """Files named by the test ids that exist in the checkout, plus those the test_patch touches."""
    files = {i.split("::", 1)[0] for i in (*task.fail_to_pass, *task.pass_to_pass) if "::" in i}
    files = {f for f in files if (repo / f).is_file()}
    return sorted(files | set(_patched_paths(task.test_patch)))


def guarded(task: EvalTask, path: str) -> bool:
    """Whether the grader puts PATH back before the tests run: task.yaml's `protected` globs, or (without them) every
    test file and test data directory by the usual layouts (tests/, test_*.py, conftest.py, testdata/, ...)."""
    if task.protected:
        return any(fnmatch.fnmatchcase(path, glob) for glob in task.protected)
    return task.protect_test_layout and is_test_path(path)


def _changed_paths(repo: Path) -> list[str]:
    """Every path the applied patch changed, added or removed in REPO (a fresh clone: nothing else differs)."""
    tracked = _git(repo, "diff", "--name-only", "--no-renames", "-z", "HEAD").stdout
    added = _git(repo, "ls-files", "-z", "--others").stdout
    return sorted({p for p in (tracked + added).split("\0") if p})


def selectors(task: EvalTask, repo: Path) -> list[str]:
    """What to pass to run_tests: the test files (or Go packages) of the ids; [] (the whole suite) when an id has
    no such prefix."""
    chosen: dict[str, None] = {}
    for test_id in (*task.fail_to_pass, *task.pass_to_pass):
        head, sep, _ = test_id.partition("::")
        if not sep or not ((repo / head).exists() or task.language == "go"):
            return []
        chosen[head] = None
    return list(chosen)


def prepare(task: EvalTask, checkout: Path, patch: str, dest: Path) -> tuple[str | None, list[str]]:
    """DEST: a clone of the checkout with PATCH applied and the tests restored. Returns (None, or why the patch
    failed; the protected files the patch changed, which were put back).

    Both patches pass the shared check (coder.patch_check) before anything is cloned or applied: `git apply` on this
    host takes `copy from /etc/passwd` or `../..` at its word. The run's patch came out of the sandbox (refused: the
    run is not resolved, and says why); a task's test_patch that fails it is the task's fault (GradingError)."""
    try:
        if patch.strip():
            check_patch(patch)
    except UnsafePatch as exc:
        return exc.refusal(), []
    try:
        if task.test_patch.strip():
            check_patch(task.test_patch)
    except UnsafePatch as exc:
        raise GradingError(f"the task's test_patch was refused: {exc}") from exc
    proc = _git(checkout.parent, "clone", "--quiet", "--no-hardlinks", str(checkout), str(dest))
    if proc.returncode != 0:
        raise GradingError(f"could not clone the checkout for grading: {proc.stderr.strip()[-300:]}")
    if patch.strip():
        problem = _apply(dest, patch)
        if problem is not None:
            return f"the patch does not apply to a fresh checkout: {problem}", []
    named = protected_files(task, checkout)
    touched = [p for p in _changed_paths(dest) if p in named or guarded(task, p)]
    protected = sorted(set(named) | set(touched))
    if protected:
        at_base = [f for f in protected if (checkout / f).exists() or (checkout / f).is_symlink()]
        if at_base:
            _git(dest, "checkout", "HEAD", "--", *at_base)
        for rel in set(protected) - set(at_base):
            (dest / rel).unlink(missing_ok=True)
    if task.test_patch.strip():
        problem = _apply(dest, task.test_patch)
        if problem is not None:
            raise GradingError(f"the task's test_patch does not apply: {problem}")
    return None, touched


def run_task_tests(task: EvalTask, repo: Path, sandbox: Sandbox, timeout: float) -> tuple[dict[str, str], str | None]:
    """(the runner's outcome per test id, the first line of its complaint or None), running TASK's tests in REPO in a
    fresh SANDBOX session; GradingError when no test could run at all."""
    options = WorkspaceOptions(test_command=task.test_command, bash_timeout=timeout, test_timeout=task.test_timeout)
    chosen = selectors(task, repo)
    with sandbox.open(repo, options) as session:
        result = session.call("run_tests", {"tests": chosen} if chosen else {})
    data = result.data or {}
    if not result.ok and not data.get("runner"):
        raise GradingError(f"the tests could not run: {result.output.strip()[:300]}")
    error = None if result.ok else result.output.strip().splitlines()[0][:300]
    return {str(k): str(v) for k, v in dict(data.get("tests", {})).items()}, error


def grade(task: EvalTask, checkout: Path, patch: str, sandbox: Sandbox, bash_timeout: float = 300.0) -> GradeResult:
    """Grade PATCH for TASK in a fresh SANDBOX session; GradingError when the tests could not run at all."""
    began = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="coder-grade-") as tmp:
        repo = Path(tmp) / "repo"
        problem, restored = prepare(task, checkout, patch, repo)
        if problem is not None:
            return GradeResult(resolved=False, patch_applied=False, seconds=round(time.monotonic() - began, 3),
                               error=problem)
        outcomes, error = run_task_tests(task, repo, sandbox, bash_timeout)
    f2p = {t: outcomes.get(t, NEVER_RAN) for t in task.fail_to_pass}
    p2p = {t: outcomes.get(t, NEVER_RAN) for t in task.pass_to_pass}
    resolved = all(passes(v) for v in (*f2p.values(), *p2p.values()))
    return GradeResult(resolved=resolved, patch_applied=True, fail_to_pass=f2p, pass_to_pass=p2p,
                       seconds=round(time.monotonic() - began, 3), error=error, restored=restored)
