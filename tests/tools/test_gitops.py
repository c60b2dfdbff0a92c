"""The server's git (base commit, snapshots, restore, patch) against a hostile workspace: planted config, attributes,
hooks and filters, paths git refuses, and git processes that fail or are killed."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from coder_tools.server import RpcError, Server

TOOLS_DIR = Path(__file__).resolve().parents[2] / "tools"


def _git(root: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, text=True).stdout


@pytest.fixture
def root(tmp_path: Path) -> Path:
    repo = tmp_path / "ws"
    repo.mkdir()
    (repo / "a.py").write_text("print('x')\n")
    return repo


def _server(root: Path) -> Server:
    server = Server()
    server.handle("initialize", {"root": str(root)})
    return server


def _patch(server: Server) -> str:
    return str(server.handle("patch", {})["patch"])


def _change(root: Path) -> None:
    (root / "a.py").write_text("print('y')\n")


# ---------------------------------------------------------------- attributes and config planted in the workspace


def test_info_attributes_cannot_turn_a_code_change_into_a_binary_patch(root: Path) -> None:
    server = _server(root)
    (root / ".git" / "info" / "attributes").write_text("* binary\n")
    _change(root)
    patch = _patch(server)
    assert "+print('y')" in patch and "GIT binary patch" not in patch and "Binary files" not in patch


def test_gitattributes_binary_rule_still_gives_a_text_hunk(root: Path) -> None:
    (root / ".gitattributes").write_text("*.py binary\n")  # committed in the base
    server = _server(root)
    _change(root)
    (root / "b.py").write_text("new = 1\n")
    (root / ".gitattributes").write_text("*.py binary\n*.py -diff\n[attr]evil -diff -text\n*.py evil\n")
    patch = _patch(server)
    assert "+print('y')" in patch and "+new = 1" in patch and "GIT binary patch" not in patch


def test_a_real_binary_file_still_gives_a_binary_patch(root: Path) -> None:
    server = _server(root)
    (root / "blob.bin").write_bytes(b"\x00\x01binary\x00" * 50)
    patch = _patch(server)
    assert "blob.bin" in patch and "GIT binary patch" in patch


def _marker_script(tmp: Path) -> tuple[Path, Path]:
    marker = tmp / "ran.txt"
    script = tmp / "evil.sh"
    script.write_text(f"#!/bin/sh\necho \"$0 $*\" >> {marker}\ntimeout 2 cat >/dev/null 2>&1\necho EVIL\n")
    script.chmod(0o755)
    return script, marker


def test_programs_named_in_a_planted_git_config_never_run(root: Path, tmp_path: Path) -> None:
    server = _server(root)
    first = server.handle("snapshot", {})["id"]
    script, marker = _marker_script(tmp_path)
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    for hook in ("post-commit", "pre-commit", "post-checkout", "post-index-change", "reference-transaction"):
        (hooks / hook).write_text(f"#!/bin/sh\necho hook {hook} >> {marker}\n")
        (hooks / hook).chmod(0o755)
    with open(root / ".git" / "config", "a") as fh:
        fh.write(
            f"[core]\n\tfsmonitor = {script}\n\thooksPath = {hooks}\n\tbigFileThreshold = 1\n\tpager = {script}\n"
            f"[diff]\n\texternal = {script}\n\tnoprefix = true\n"
            f"[filter \"x\"]\n\tclean = {script}\n\tsmudge = {script}\n\tprocess = {script}\n\trequired = true\n"
            f"[diff \"x\"]\n\ttextconv = {script}\n\tcommand = {script}\n"
        )
    (root / ".gitattributes").write_text("* filter=x diff=x\n")
    _change(root)
    server.handle("snapshot", {})
    patch = _patch(server)
    assert "--- a/a.py\n+++ b/a.py" in patch and "+print('y')" in patch and "EVIL" not in patch
    assert set(server.handle("restore", {"id": first})["changed"]) == {".gitattributes", "a.py"}
    assert (root / "a.py").read_text() == "print('x')\n"
    assert not marker.exists(), marker.read_text()


def test_a_planted_worktree_setting_cannot_pull_other_files_into_the_patch(root: Path, tmp_path: Path) -> None:
    server = _server(root)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "secret.txt").write_text("host secret\n")
    _git(root, "config", "core.worktree", str(elsewhere))
    _change(root)
    patch = _patch(server)
    assert "secret" not in patch and "+print('y')" in patch and "deleted file" not in patch


def test_replace_refs_cannot_swap_the_base(root: Path) -> None:
    server = _server(root)
    base = server.base
    assert base is not None
    (root / "a.py").write_text("print('y')\n")
    _git(root, "add", "a.py")
    tree = _git(root, "write-tree").strip()
    fake = subprocess.run(["git", "commit-tree", tree, "-m", "fake"], cwd=root, check=True, capture_output=True,
                          text=True, env={**os.environ, "GIT_AUTHOR_NAME": "a", "GIT_AUTHOR_EMAIL": "a@b",
                                          "GIT_COMMITTER_NAME": "a", "GIT_COMMITTER_EMAIL": "a@b"}).stdout.strip()
    _git(root, "replace", base, fake)
    assert "+print('y')" in _patch(server)  # the change is measured against the real base


# ---------------------------------------------------------------- paths git refuses (.GIT/, .git./, ...)

BAD_PATHS = [".GIT/f", ".git./g", "x/.git /h", "x/.Git", "y/git~1", ".g\u200cit", "z/.git:stream"]


def test_snapshot_and_patch_leave_out_paths_git_refuses(root: Path) -> None:
    server = _server(root)
    first = server.handle("snapshot", {})
    for rel in BAD_PATHS:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text("bad\n")
    (root / "x" / "fine.txt").write_text("fine\n")
    _change(root)
    snap = server.handle("snapshot", {})
    assert snap["id"] != first["id"]
    assert {".GIT", ".git.", "x/.git ", "x/.Git", "y/git~1", ".g\u200cit", "z/.git:stream"} <= set(snap["excluded"])
    result = server.handle("patch", {})
    assert "+print('y')" in result["patch"] and "x/fine.txt" in result["patch"]
    assert ".GIT" not in result["patch"] and "git~1" not in result["patch"]
    assert ".GIT" in result["excluded"]
    changed = server.handle("restore", {"id": first["id"]})["changed"]
    assert set(changed) == {"a.py", "x/fine.txt"} and (root / "a.py").read_text() == "print('x')\n"


# ---------------------------------------------------------------- git that fails or is killed


@pytest.fixture
def git_shim(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A `git` first on PATH that records its oom_score_adj and stdin, then runs the real git."""
    real = subprocess.run(["sh", "-c", "command -v git"], capture_output=True, text=True, check=True).stdout.strip()
    shim_dir = tmp_path / "shim"
    shim_dir.mkdir()
    log = tmp_path / "git-calls.txt"
    (shim_dir / "git").write_text(
        f"#!/bin/sh\necho \"$(cat /proc/self/oom_score_adj) $(readlink /proc/self/fd/0)\" >> {log}\n"
        f"exec {real} \"$@\"\n"
    )
    (shim_dir / "git").chmod(0o755)
    monkeypatch.setenv("PATH", f"{shim_dir}:{os.environ['PATH']}")
    return log


def test_server_git_runs_with_high_oom_score_and_no_stdin(root: Path, git_shim: Path) -> None:
    server = _server(root)
    _change(root)
    snap = server.handle("snapshot", {})["id"]
    _patch(server)
    server.handle("restore", {"id": snap})
    calls = git_shim.read_text().splitlines()
    assert len(calls) >= 5
    assert all(call.split()[0] == "1000" for call in calls), calls
    assert all(call.split()[1] == "/dev/null" or call.split()[1].startswith("pipe:") for call in calls), calls


def test_git_environment_inherited_by_the_server_is_ignored(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    server = _server(root)
    monkeypatch.setenv("GIT_DIR", "/nonexistent/.git")
    monkeypatch.setenv("GIT_OBJECT_DIRECTORY", "/nonexistent/objects")
    monkeypatch.setenv("GIT_INDEX_FILE", "/nonexistent/index")
    _change(root)
    assert server.handle("snapshot", {})["id"]
    assert "+print('y')" in _patch(server)


@pytest.fixture
def limited_server(root: Path) -> Iterator[subprocess.Popen[str]]:
    """The real server with a 1 MB file-size limit: git writing a bigger object is killed (SIGXFSZ)."""

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (1 << 20, 1 << 20))

    proc = subprocess.Popen([sys.executable, "-P", "-m", "coder_tools.server"], cwd=root, text=True,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(TOOLS_DIR), "HOME": str(root)},
                            preexec_fn=limit)
    yield proc
    proc.kill()
    proc.communicate()


def _rpc(proc: subprocess.Popen[str], method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params or {}}) + "\n")
    proc.stdin.flush()
    answer: dict[str, Any] = json.loads(proc.stdout.readline())
    return answer


def test_killed_git_fails_snapshot_and_patch_cleanly_and_the_server_lives(
    limited_server: subprocess.Popen[str], root: Path
) -> None:
    assert "result" in _rpc(limited_server, "initialize", {"root": str(root)})
    first = _rpc(limited_server, "snapshot")["result"]["id"]
    (root / "big.bin").write_bytes(os.urandom(3 << 20))
    for method in ("snapshot", "patch", "restore"):
        answer = _rpc(limited_server, method, {"id": first} if method == "restore" else {})
        assert "error" in answer, answer
        error = answer["error"]
        assert error["code"] == -32000, error
        assert f"{method} failed" in error["message"] and "killed by signal" in error["message"], error
    assert _rpc(limited_server, "ping")["result"] == {"pong": True}
    (root / "big.bin").unlink()
    _change(root)
    assert "+print('y')" in _rpc(limited_server, "patch")["result"]["patch"]
    assert _rpc(limited_server, "restore", {"id": first})["result"]["changed"] == ["a.py"]


def test_rpc_error_for_bad_snapshot_id(root: Path) -> None:
    server = _server(root)
    with pytest.raises(RpcError) as info:
        server.handle("restore", {"id": "0" * 40})
    assert "restore failed" in str(info.value)


def test_initialize_works_when_the_copied_repo_holds_paths_git_refuses(root: Path) -> None:
    (root / ".GIT").mkdir()
    (root / ".GIT" / "x").write_text("untracked in the user's repo, copied in\n")
    (root / ".gitmodules").symlink_to("a.py")  # git refuses a .gitmodules that is a link
    server = _server(root)
    assert server.handle("snapshot", {})["excluded"] == [".GIT", ".gitmodules"]
    _change(root)
    assert "+print('y')" in _patch(server)


def test_command_line_overrides_alone_stop_hooks_fsmonitor_and_a_planted_worktree(root: Path, tmp_path: Path) -> None:
    """Defence in depth: even before pin() puts .git/config back, gitrun's own settings win over the planted ones."""
    from coder_tools import gitrun

    script, marker = _marker_script(tmp_path)
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    (hooks / "pre-commit").symlink_to(script)
    (hooks / "post-commit").symlink_to(script)
    gitrun.run(root, "init", "-q")
    for key, value in (("core.fsmonitor", str(script)), ("core.hooksPath", str(hooks)),
                       ("core.worktree", str(tmp_path)), ("core.bare", "true")):
        _git(root, "config", key, value)
    gitrun.run(root, "add", "-A")
    gitrun.run(root, "commit", "-q", "-m", "x")
    assert gitrun.run(root, "ls-files").decode() == "a.py\n"
    assert not marker.exists(), marker.read_text()
