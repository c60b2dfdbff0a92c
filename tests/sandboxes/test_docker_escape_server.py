"""Escape and abuse suite, tool-server half: what a command in the sandbox can do to the server's own work (grep,
snapshots, restore, the patch). A backtracking regex, planted git attributes and config, paths git refuses, and a
workspace out of inodes must each end as an error the agent can read, never as a hung or dead server or a lost patch."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from coder.agent import Agent
from coder.config import Config
from coder.events import RunFinished
from coder.sandboxes.base import Sandbox, SandboxError, WorkspaceOptions
from coder.sandboxes.docker import DockerLimits, DockerSandbox, DockerSession
from coder.task import Task
from coder.testing import ScriptedModel, call, reply

LIMITS = DockerLimits(memory="256m", cpus=1.0, pids=128, workspace_size="64m", tmp_size="64m", home_size="16m")
REDOS_LINE = " ".join(f"word{i}" for i in range(40)) + "!"  # `(\w+\s?)+$` backtracks for ever on this
LOOKALIKES = "mkdir -p .GIT .git. 'sub/.git ' && echo x > .GIT/config && echo y > .git./HEAD && echo z > 'sub/.git /f'"


@pytest.fixture
def repo(make_repo: Callable[..., Path]) -> Path:
    return make_repo({"app.py": "def main():\n    return 1\n", "README.md": "hello\n"})


@pytest.fixture
def open_session(docker_images: dict[str, str]) -> Iterator[Callable[..., DockerSession]]:
    """Open sessions on the plain image with small limits; every one is closed at the end."""
    opened: list[DockerSession] = []

    def _open(repo: Path, timeout: float = 20.0, limits: DockerLimits = LIMITS) -> DockerSession:
        sandbox = DockerSandbox(image=docker_images["plain"], limits=limits)
        session = sandbox.open(repo, WorkspaceOptions(bash_timeout=timeout))
        opened.append(session)
        return session

    yield _open
    for session in opened:
        session.close()


def sh(session: Any, command: str) -> str:
    result = session.call("bash", {"command": command})
    assert result.ok, result.output
    return str(result.output)


# ---------------------------------------------------------------- 8. a regex that never ends


@pytest.mark.docker
def test_backtracking_grep_is_cut_off_and_the_session_lives(repo: Path,
                                                            open_session: Callable[..., DockerSession]) -> None:
    session = open_session(repo)
    sh(session, f"printf '%s\\n' 'short line' '{REDOS_LINE}' > prose.txt")
    started = time.monotonic()
    result = session.call("grep", {"pattern": r"(\w+\s?)+$"})
    elapsed = time.monotonic() - started
    assert not result.ok and elapsed < 20, (elapsed, result.output)
    assert "took longer than 10 s" in result.output and "prose.txt" in result.output
    assert "alive" in sh(session, "echo alive")
    found = session.call("grep", {"pattern": r"def \w+"})
    assert found.ok and "app.py:1: def main():" in found.output


# ---------------------------------------------------------------- 3. attributes and config planted by a command


@pytest.mark.docker
def test_planted_attributes_and_config_cannot_disguise_the_patch(repo: Path,
                                                                  open_session: Callable[..., DockerSession]) -> None:
    session = open_session(repo)
    # Whether or not .git is writable for commands, none of this may change what the patch shows or run anything.
    sh(session, "printf '* binary\\n' > .git/info/attributes 2>/dev/null; "
                "printf '[core]\\n\\tbigFileThreshold = 1\\n\\tfsmonitor = touch /tmp/pwned-fsmonitor\\n"
                "[filter \"x\"]\\n\\tclean = touch /tmp/pwned-filter\\n[diff]\\n\\tnoprefix = true\\n' >> .git/config "
                "2>/dev/null; printf '*.py binary filter=x\\n' > .gitattributes; sed -i 's/return 1/return 2/' app.py; "
                "printf 'bin\\000ary' > blob.bin; true")
    session.snapshot()
    patch = session.patch()
    assert "--- a/app.py\n+++ b/app.py" in patch and "+    return 2" in patch
    assert patch.count("GIT binary patch") == 1 and "blob.bin" in patch  # the real binary file, and only it
    assert "pwned" not in sh(session, "ls /tmp")


# ---------------------------------------------------------------- 12. paths git refuses


@pytest.mark.docker
def test_dot_git_lookalikes_do_not_break_snapshots_or_the_patch(repo: Path,
                                                                open_session: Callable[..., DockerSession]) -> None:
    session = open_session(repo)
    first = session.snapshot()
    sh(session, f"{LOOKALIKES} && echo ok > sub/ok.txt; sed -i 's/return 1/return 2/' app.py")
    assert session.snapshot() != first
    patch = session.patch()
    assert "+    return 2" in patch and "sub/ok.txt" in patch and ".GIT" not in patch and ".git." not in patch
    assert sorted(session.restore(first)) == ["app.py", "sub/ok.txt"]
    refused = session.call("edit_file", {"path": ".GIT/hooks/post-commit", "command": "create", "new": "x\n"})
    assert not refused.ok and "refusing" in refused.output


def test_agent_run_keeps_its_patch_when_a_command_makes_dot_git_lookalikes(
    sandbox: Sandbox, buggy_repo: Path, tmp_path: Path
) -> None:
    """Before: every snapshot after the command failed on the invalid path and the run ended with no patch."""
    steps = [
        reply("", call("bash", command=LOOKALIKES)),
        reply("", call("edit_file", path="calc.py", command="replace", old="return a - b", new="return a + b")),
        reply("", call("submit", summary="add adds")),
    ]
    model = ScriptedModel(steps)
    agent = Agent(model, sandbox, Config(), trajectory_dir=tmp_path / "traj")
    events = list(agent.run(Task(repo=buggy_repo, issue="add() subtracts")))
    final = events[-1]
    assert isinstance(final, RunFinished) and final.status == "resolved", final.message
    assert "+    return a + b" in final.patch and ".GIT" not in final.patch


# ---------------------------------------------------------------- 9. the workspace out of inodes


@pytest.mark.docker
def test_inode_exhaustion_fails_the_snapshot_cleanly_and_the_server_lives(
    repo: Path, open_session: Callable[..., DockerSession]
) -> None:
    session = open_session(repo, timeout=60, limits=dataclasses.replace(LIMITS, workspace_inodes=3000))
    first = session.snapshot()
    made = sh(session, "mkdir many && cd many && i=0; while : > f$i 2>/dev/null; do i=$((i+1)); done; echo made $i")
    assert "made" in made
    for attempt in (session.snapshot, session.patch):
        with pytest.raises(SandboxError, match=r"-32000: (snapshot|patch) failed: .*No space left on device"):
            attempt()
    assert "alive" in sh(session, "echo alive")  # the same server answers
    sh(session, "rm -rf many")
    assert session.snapshot() == first
    assert session.patch() == ""
