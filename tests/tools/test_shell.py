"""Tests for bash: exit codes, environment, timeouts that kill the whole process group, and output caps."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from coder_tools.base import Workspace, WorkspaceOptions
from coder_tools.server import run_tool
from coder_tools.shell import BashArgs, bash


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    root = tmp_path / "repo"
    root.mkdir()
    (root / "hello.txt").write_text("hi\n")
    return Workspace(root, WorkspaceOptions(bash_timeout=30, env={"CODER_TEST_VAR": "from-options"}))


def _live_members(pgid: int) -> list[int]:
    """Processes in group pgid that are not zombies (a zombie waits only for its parent to reap it)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path("/proc", entry, "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[2]) == pgid and fields[0] != "Z":
            found.append(int(entry))
    return found


def test_output_and_exit_code(ws: Workspace) -> None:
    result = bash(BashArgs(command="cat hello.txt; echo err >&2; exit 3"), ws)
    assert result.ok  # a failing command is a normal result the model reads
    assert result.output == "hi\nerr\n[exit code 3]"
    assert result.data == {"exit_code": 3, "timed_out": False}


def test_runs_in_root_with_options_env_and_empty_stdin(ws: Workspace) -> None:
    result = bash(BashArgs(command="pwd; echo $CODER_TEST_VAR; cat; echo done"), ws)
    assert result.output.splitlines()[:3] == [str(ws.root), "from-options", "done"]
    assert result.data["exit_code"] == 0


def test_no_output(ws: Workspace) -> None:
    assert bash(BashArgs(command="true"), ws).output == "(no output)\n[exit code 0]"


def test_signal_death_is_reported(ws: Workspace) -> None:
    result = bash(BashArgs(command="kill -SEGV $$"), ws)
    assert result.ok and "SIGSEGV" in result.output and result.data["exit_code"] == -11


def test_timeout_kills_the_whole_process_group(ws: Workspace) -> None:
    start = time.monotonic()
    result = bash(BashArgs(command="echo $$; sleep 100 & sleep 100", timeout=1), ws)
    assert time.monotonic() - start < 10
    assert not result.ok
    assert result.data == {"exit_code": None, "timed_out": True}
    assert "timed out after 1s" in result.output
    pgid = int(result.output.splitlines()[0])  # partial output survives the kill
    deadline = time.monotonic() + 5
    while _live_members(pgid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _live_members(pgid) == []


def test_timeout_is_capped_by_workspace_limit(ws: Workspace) -> None:
    ws.options.bash_timeout = 1
    start = time.monotonic()
    result = bash(BashArgs(command="sleep 30", timeout=1000), ws)
    assert result.data["timed_out"] and time.monotonic() - start < 10


def test_background_process_holding_output_does_not_block(ws: Workspace) -> None:
    start = time.monotonic()
    result = bash(BashArgs(command="sleep 30 & echo $!"), ws)
    assert time.monotonic() - start < 10
    assert result.ok and result.data["exit_code"] == 0 and "background processes" in result.output
    os.kill(int(result.output.splitlines()[0]), 9)


def test_huge_output_is_capped(ws: Workspace) -> None:
    result = bash(BashArgs(command="seq 1 3000000"), ws)
    assert len(result.output) < 5 * ws.options.output_cap
    assert result.output.startswith("1\n2\n3\n")
    assert "3000000\n[exit code 0]" in result.output and "bytes of output omitted" in result.output
    via_server = run_tool(ws, "bash", {"command": "seq 1 3000000"})
    assert len(via_server.output) < ws.options.output_cap + 200


def test_ansi_codes_and_progress_redraws_are_cleaned(ws: Workspace) -> None:
    result = bash(BashArgs(command=r"printf '\033[31mred\033[0m\n10%%\r50%%\r100%%\n'"), ws)
    assert result.output == "red\n100%\n[exit code 0]"


def test_argument_checks(ws: Workspace) -> None:
    result = run_tool(ws, "bash", {"command": "ls", "cwd": "/"})
    assert not result.ok and "Extra inputs" in result.output
    result = run_tool(ws, "bash", {"command": "ls", "timeout": -1})
    assert not result.ok and "timeout" in result.output
    result = run_tool(ws, "bash", {"command": ""})
    assert not result.ok and "command" in result.output
