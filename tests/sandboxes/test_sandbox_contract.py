"""The sandbox seam: what goes in, what comes out, isolation and cleanup (run against every sandbox kind)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from coder.sandboxes.base import Sandbox, SandboxError, SandboxSession, WorkspaceOptions
from repo_helpers import git, sandbox_leftovers, tree_snapshot


@pytest.fixture
def repo(make_repo: Callable[..., Path], tmp_path: Path) -> Path:
    outside = tmp_path / "outside-secret.txt"
    outside.write_text("host secret\n")
    r = make_repo({
        "src/app.py": "def main():\n    return 1\n",
        "data.bin": bytes(range(256)),
        ".gitignore": "ignored/\n*.log\n",
        "ignored/big.txt": "should not be copied\n",
        "debug.log": "nor this\n",
    })
    (r / "untracked.py").write_text("x = 1\n")  # untracked, not ignored: copied
    os.symlink(outside, r / "escape-link")  # untracked symlink pointing outside the repo
    return r


@pytest.fixture
def session(sandbox: Sandbox, repo: Path) -> Iterator[SandboxSession]:
    with sandbox.open(repo, WorkspaceOptions(bash_timeout=20)) as s:
        yield s


def sh(session: SandboxSession, command: str) -> str:
    result = session.call("bash", {"command": command})
    assert result.ok, result.output
    return result.output


def test_session_satisfies_protocol(session: SandboxSession, sandbox: Sandbox) -> None:
    assert isinstance(sandbox, Sandbox) and isinstance(session, SandboxSession)


def test_copies_tracked_and_untracked_but_not_ignored(session: SandboxSession) -> None:
    listing = sh(session, "find . -path ./.git -prune -o -print | sort")
    assert "./src/app.py" in listing and "./untracked.py" in listing and "./data.bin" in listing
    assert "ignored" not in listing and "debug.log" not in listing


def test_symlink_out_of_the_repo_cannot_be_read_by_tools(session: SandboxSession) -> None:
    for name, args in [("view_file", {"path": "escape-link"}), ("edit_file", {"path": "escape-link", "command": "replace", "old": "host", "new": "x"}),
                       ("grep", {"pattern": "host secret", "path": "escape-link"})]:
        result = session.call(name, args)
        assert not result.ok and "outside the repository" in result.output, (name, result.output)


def test_patch_round_trips_to_the_host(session: SandboxSession, repo: Path, tmp_path: Path) -> None:
    before = tree_snapshot(repo)
    session.call("edit_file", {"path": "src/app.py", "command": "replace", "old": "return 1", "new": "return 2"})
    session.call("edit_file", {"path": "src/new.py", "command": "create", "new": "NEW = True\n"})
    sh(session, "rm untracked.py && printf '\\x00\\x01\\x02' > data.bin")
    patch = session.patch()
    assert "src/new.py" in patch and "GIT binary patch" in patch and "deleted file" in patch
    assert tree_snapshot(repo) == before  # nothing leaks to the host during the run

    clone = tmp_path / "clone"
    subprocess.run(["cp", "-a", str(repo), str(clone)], check=True)
    (clone / "p.patch").write_text(patch)
    git(clone, "apply", "--binary", "p.patch")
    assert (clone / "src/app.py").read_text() == "def main():\n    return 2\n"
    assert (clone / "src/new.py").read_text() == "NEW = True\n"
    assert (clone / "data.bin").read_bytes() == b"\x00\x01\x02" and not (clone / "untracked.py").exists()


def test_run_artifacts_stay_out_of_the_patch(session: SandboxSession) -> None:
    sh(session, "mkdir -p pkg/__pycache__ .pytest_cache && touch pkg/__pycache__/m.pyc .pytest_cache/x")
    assert session.patch() == ""


def test_no_host_environment_passes_in(sandbox: Sandbox, repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CODER_TEST_SECRET_TOKEN", "hunter2")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-leak")
    with sandbox.open(repo, WorkspaceOptions()) as s:
        env_dump = sh(s, "env")
    assert "hunter2" not in env_dump and "sk-leak" not in env_dump


def test_warm_state_survives_between_calls(session: SandboxSession) -> None:
    session.call("edit_file", {"path": "src/app.py", "command": "replace", "old": "return 1", "new": "return 3"})
    undo = session.call("edit_file", {"path": "src/app.py", "command": "undo"})
    assert undo.ok, undo.output
    assert session.patch() == ""


def _server_pid(s: Any) -> int:
    """The tool server's pid on this host (in Docker, commands cannot signal it: it is killed from outside)."""
    if getattr(s, "container", None) is None:
        return int(s._proc.pid)
    top = s.container.top(ps_args="-eo pid,args")
    return next(int(row[0]) for row in top["Processes"] if "coder_tools.server" in row[-1])


def test_dead_tool_server_is_a_sandbox_error(sandbox: Sandbox, repo: Path) -> None:
    with sandbox.open(repo, WorkspaceOptions()) as s:
        os.kill(_server_pid(s), 9)
        with pytest.raises(SandboxError):
            s.call("view_file", {"path": "src/app.py"})
        with pytest.raises(SandboxError):
            s.call("bash", {"command": "echo hi"})


def test_close_is_idempotent_and_cleans_up(sandbox: Sandbox, sandbox_kind: str, repo: Path, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    import tempfile

    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    s = sandbox.open(repo, WorkspaceOptions())
    s.call("bash", {"command": "echo hi"})
    s.close()
    s.close()
    assert sandbox_leftovers(sandbox_kind, scratch) == []


def test_not_a_git_repo_is_refused(sandbox: Sandbox, tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "a.py").write_text("x = 1\n")
    with pytest.raises(SandboxError, match="not a git repository"):
        sandbox.open(plain, WorkspaceOptions())


def test_unknown_tool_is_a_result_not_an_exception(session: SandboxSession) -> None:
    result: Any = session.call("nope", {})
    assert not result.ok and "unknown tool" in result.output


def test_restore_undoes_shell_side_effects(session: SandboxSession) -> None:
    before = session.snapshot()
    sh(session, "rm src/app.py && echo new > made.txt && mkdir -p deep/er && echo x > deep/er/f.py "
                "&& printf 'changed' > untracked.py && mkdir -p ignored && echo y > ignored/out.txt")
    session.call("edit_file", {"path": "made.txt", "command": "replace", "old": "new", "new": "newer"})
    changed = session.restore(before)
    assert changed == ["deep/er/f.py", "made.txt", "src/app.py", "untracked.py"]
    assert sh(session, "cat src/app.py untracked.py").startswith("def main():\n    return 1\nx = 1\n")
    assert "made.txt" not in sh(session, "ls") and "deep" not in sh(session, "ls")
    assert "out.txt" in sh(session, "ls ignored")  # ignored files are not part of a snapshot
    assert session.patch() == ""
    # edit_file's own undo history was dropped: it must not resurrect made.txt
    undo = session.call("edit_file", {"path": "made.txt", "command": "undo"})
    assert not undo.ok
    assert session.restore(session.snapshot()) == []
