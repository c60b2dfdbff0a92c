"""`--branch` delivery killed at many moments: either the branch holds the whole commit or nothing changed.

The delivery runs in a subprocess (with a `git` on PATH that makes every git call a little slower, so signals land
inside git calls as well as between them) and is sent SIGTERM or SIGKILL after a spread of delays. Afterwards the
user's working tree, index and HEAD are byte-identical, no worktree is registered, no temp dir is left, and the
message printed after a SIGTERM says what is true.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from repo_helpers import BUGGY_REPO, git, worktree_snapshot
from test_apply import FIXED_CALC, make_patch, plain_git

BRANCH = "coder/fix-add"
DRIVER = '''
import signal, sys
from pathlib import Path

import coder.apply as apply


def interrupt(signum, frame):  # as `coder fix` does: SIGTERM cleans up like Ctrl-C
    raise KeyboardInterrupt


signal.signal(signal.SIGTERM, interrupt)
repo, patch_file, branch = sys.argv[1:4]
patch = Path(patch_file).read_text()
outcome = apply.Outcome() if hasattr(apply, "Outcome") else None
print("ready", flush=True)
try:
    sha = apply.commit_on_branch(Path(repo), patch, branch, "coder: fix", **({"outcome": outcome} if outcome else {}))
except KeyboardInterrupt:
    print("interrupted; " + (outcome.says() if outcome else "nothing was applied"), flush=True)
    sys.exit(130)
print("committed " + sha, flush=True)
'''


def slow_git(bin_dir: Path, delay: float = 0.03) -> Path:
    """A `git` first on PATH that waits DELAY seconds, then runs the real one."""
    real = shutil.which("git")
    assert real
    bin_dir.mkdir()
    wrapper = bin_dir / "git"
    wrapper.write_text(f"#!/bin/sh\nsleep {delay}\nexec {real} \"$@\"\n")
    wrapper.chmod(0o755)
    return bin_dir


class Delivery:
    """Runs the driver on REPO and checks what a kill left."""

    def __init__(self, repo: Path, tmp_path: Path) -> None:
        self.repo, self.scratch = repo, tmp_path / "scratch"
        self.scratch.mkdir()
        self.patch_file = tmp_path / "fix.patch"
        self.patch_file.write_text(make_patch(repo, {"calc.py": FIXED_CALC, "docs/new.md": "new file\n"}))
        self.driver = tmp_path / "driver.py"
        self.driver.write_text(DRIVER)
        path = f"{slow_git(tmp_path / 'bin')}{os.pathsep}{os.environ['PATH']}"
        self.env = {**os.environ, "PATH": path, "TMPDIR": str(self.scratch),
                    "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
        self.head = plain_git(repo, "rev-parse", "HEAD").strip()
        self.before = worktree_snapshot(repo)

    def run(self, sig: int | None, delay: float) -> tuple[str, float]:
        """Start the delivery, send SIG DELAY seconds after it is ready; returns its output and how long it ran."""
        proc = subprocess.Popen([sys.executable, str(self.driver), str(self.repo), str(self.patch_file), BRANCH],
                                cwd=self.repo, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True)
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"
        started = time.monotonic()
        if sig is not None:
            time.sleep(delay)
            proc.send_signal(sig)
        out, err = proc.communicate(timeout=60)
        return out + err, time.monotonic() - started

    def problems(self, output: str, sig: int | None) -> list[str]:
        """What is wrong with the repository after a run (and resets it for the next one)."""
        found = []
        deadline = time.monotonic() + 10  # after SIGKILL, cleanup of the temp dir happens once git calls end
        while any(self.scratch.iterdir()) and time.monotonic() < deadline:
            time.sleep(0.05)
        if any(self.scratch.iterdir()):
            found.append(f"temp dir left: {[p.name for p in self.scratch.iterdir()]}")
            shutil.rmtree(self.scratch)
            self.scratch.mkdir()
        worktrees = plain_git(self.repo, "worktree", "list").splitlines()
        if len(worktrees) != 1:
            found.append(f"worktree registered: {worktrees[1:]}")
            for line in worktrees[1:]:
                subprocess.run(["git", "worktree", "remove", "--force", line.split()[0]], cwd=self.repo)
            subprocess.run(["git", "worktree", "prune"], cwd=self.repo)
        if worktree_snapshot(self.repo) != self.before:
            found.append("the user's working tree, index or HEAD changed")
        exists = subprocess.run(["git", "rev-parse", "--verify", "-q", f"refs/heads/{BRANCH}"], cwd=self.repo,
                                capture_output=True, text=True).returncode == 0
        if exists:
            sha = plain_git(self.repo, "rev-parse", BRANCH).strip()
            if plain_git(self.repo, "log", "-1", "--format=%P", sha).strip() != self.head or \
                    plain_git(self.repo, "show", f"{sha}:calc.py") != FIXED_CALC:
                found.append("the branch exists without the whole commit")
            plain_git(self.repo, "branch", "-D", BRANCH)
        if sig == signal.SIGTERM and "interrupted" in output:
            says_committed = f"committed on branch {BRANCH}" in output
            if says_committed != exists:
                found.append(f"the message is not true (branch exists: {exists}): {output.strip()[-200:]}")
        if sig is None and not exists:
            found.append(f"an uninterrupted delivery made no branch: {output.strip()[-300:]}")
        return found


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
def test_branch_delivery_is_all_or_nothing_under_signals(make_repo, tmp_path: Path, sig: int) -> None:  # type: ignore[no-untyped-def]
    repo = make_repo(BUGGY_REPO)
    (repo / "notes.txt").write_text("uncommitted work\n")  # the user's own untracked and modified files
    (repo / "calc.py").write_text(BUGGY_REPO["calc.py"] + "# local edit\n")
    git(repo, "status")
    delivery = Delivery(repo, tmp_path)
    output, duration = delivery.run(None, 0)
    assert delivery.problems(output, None) == []
    report: list[str] = []
    kills = 14
    for n in range(kills):
        delay = duration * 1.2 * n / (kills - 1)
        output, _ = delivery.run(sig, delay)
        report += [f"kill after {delay:.3f}s: {problem}" for problem in delivery.problems(output, sig)]
    assert report == [], "\n".join(report)


CLI_GIT = """#!/bin/sh
case "$*" in
    $CODER_TEST_SLOW_STEP) touch "$CODER_TEST_MARKER"; sleep 3;;
esac
exec {real} "$@"
"""


@pytest.mark.slow
@pytest.mark.parametrize("deliver,step,done", [
    (["--branch", BRANCH], "commit-tree *", None),
    (["--branch", BRANCH], "update-ref *", f"the patch was committed on branch {BRANCH}"),
    (["--yes"], "apply --check *", None),
    (["--yes"], "apply --binary -", "the patch was applied to the working tree")],
    ids=["branch-before-ref", "branch-during-ref", "yes-during-check", "yes-during-apply"])
def test_sigterm_during_coder_fix_delivery_says_what_is_true(buggy_repo: Path, tmp_path: Path, deliver: list[str],
                                                             step: str, done: str | None) -> None:
    """`coder fix` gets SIGTERM while a host git step of the delivery runs: the message matches the repository."""
    sys.path.insert(0, str(Path(__file__).resolve().parent / "models"))
    from fake_openai_server import FakeOpenAIServer, completion, native_call

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "git").write_text(CLI_GIT.replace("{real}", str(shutil.which("git"))))
    (bin_dir / "git").chmod(0o755)
    marker = tmp_path / "slow-step-started"
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("CODER_")}, "HOME": str(tmp_path / "home"),
           "XDG_CACHE_HOME": str(tmp_path / "cache"), "CODER_SANDBOX__KIND": "local",
           "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "CODER_TEST_SLOW_STEP": step,
           "CODER_TEST_MARKER": str(marker), "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    before = worktree_snapshot(buggy_repo)
    edit = {"path": "calc.py", "command": "replace", "old": "return a - b", "new": "return a + b"}
    with FakeOpenAIServer() as server:
        server.reply(completion("", tool_calls=[native_call("c1", "edit_file", edit)]))
        server.reply(completion("", tool_calls=[native_call("c2", "submit", {"summary": "add adds"})]))
        proc = subprocess.Popen([sys.executable, "-m", "coder.cli", "fix", "add() subtracts", *deliver,
                                 "--no-stream", "--base-url", server.base_url], cwd=buggy_repo, env=env,
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 90
        while not marker.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert marker.exists(), proc.communicate()[1]
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert f"interrupted; {done or 'nothing was applied'}" in stderr, stderr
    exists = subprocess.run(["git", "rev-parse", "--verify", "-q", f"refs/heads/{BRANCH}"], cwd=buggy_repo,
                            capture_output=True).returncode == 0
    assert exists == (done is not None and "--branch" in deliver)
    applied = "return a + b" in (buggy_repo / "calc.py").read_text()
    assert applied == (done is not None and "--yes" in deliver)
    if not applied:
        assert worktree_snapshot(buggy_repo) == before
    assert len(plain_git(buggy_repo, "worktree", "list").splitlines()) == 1
