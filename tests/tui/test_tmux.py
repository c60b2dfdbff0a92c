"""The real terminal: `coder tui` under tmux through a whole tasks/ task (type, watch, review, accept, apply, quit)."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from coder.eval import taskspec

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "models"))
from fake_openai_server import FakeOpenAIServer, completion, native_call  # noqa: E402

TASK = Path(__file__).resolve().parents[2] / "tasks" / "csv-export-drops-last-row"

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")


class Tmux:
    """One tmux server on a private socket, one window running a command."""

    def __init__(self, socket: str) -> None:
        self.socket = socket

    def run(self, *args: str) -> str:
        proc = subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True, text=True, timeout=30)
        return proc.stdout if proc.returncode == 0 else ""

    def screen(self) -> str:
        return self.run("capture-pane", "-p", "-t", "main")

    def keys(self, *keys: str, literal: bool = False) -> None:
        self.run("send-keys", "-t", "main", *(["-l"] if literal else []), *keys)

    def wait_for(self, text: str, timeout: float = 90.0) -> str:
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = self.screen()
            if text in screen:
                return screen
            time.sleep(0.2)
        raise AssertionError(f"{text!r} never appeared on the terminal; last screen:\n{screen}")


@pytest.fixture
def tmux(tmp_path: Path) -> Iterator[Tmux]:
    term = Tmux(f"coder-test-{os.getpid()}-{tmp_path.name}")
    yield term
    term.run("kill-server")


def script_solution(server: FakeOpenAIServer) -> None:
    """The task's scripted solution, served as native tool calls by a fake OpenAI-compatible endpoint."""
    solution = taskspec.load_solution(TASK)
    plan = "Plan:\n" + "\n".join(f"{n}. {step}" for n, step in enumerate(solution.plan, 1))
    for index, item in enumerate(solution.calls):
        call = native_call(f"c{index}", item["name"], item["arguments"])
        server.reply(completion(plan if index == 0 else "", tool_calls=[call],
                                usage={"prompt_tokens": 1000 + 100 * index, "completion_tokens": 30}))


def test_whole_task_in_a_real_terminal(tmux: Tmux, tmp_path: Path) -> None:
    repo = taskspec.checkout(TASK, tmp_path / "repo")
    target = next(line[6:] for line in (TASK / "fix.patch").read_text().splitlines() if line.startswith("+++ b/"))
    before = (repo / target).read_text()
    issue = taskspec.load_task(TASK).issue.splitlines()[0]
    for name in ("home", "tmp", "cache"):
        (tmp_path / name).mkdir()
    with FakeOpenAIServer() as server:
        script_solution(server)
        env = {"HOME": tmp_path / "home", "TMPDIR": tmp_path / "tmp", "XDG_CACHE_HOME": tmp_path / "cache",
               "CODER_AGENT__STREAM": "false", "TERM": "xterm-256color", "PATH": os.environ["PATH"]}
        exports = " ".join(f"{k}={shlex.quote(str(v))}" for k, v in env.items())
        command = (f"env -i {exports} {shlex.quote(sys.executable)} -m coder.cli tui --repo {shlex.quote(str(repo))} "
                   f"--base-url {server.base_url} --model qwen2.5-coder --sandbox local; echo CODER-EXITED:$?; sleep 60")
        tmux.run("new-session", "-d", "-s", "main", "-x", "100", "-y", "30", "bash", "-c", command)

        tmux.wait_for("Describe the bug")
        tmux.keys(issue, literal=True)
        tmux.keys("Enter")
        screen = tmux.wait_for("fail→pass")
        assert "resolved:" in screen and "edit_file" in screen and "run_tests" in screen, screen  # the tool stream
        assert "Plan" in screen and "1." in screen
        assert (repo / target).read_text() == before  # nothing applied yet

        tmux.keys("C-r")
        tmux.wait_for("hunk(s)")
        tmux.keys("A")  # accept every hunk
        tmux.wait_for("✓ accepted")
        tmux.keys("w")
        tmux.wait_for("Wrote")
        after = (repo / target).read_text()
        assert after != before
        check = subprocess.run(["git", "apply", "--check", "-R", str(TASK / "fix.patch")], cwd=repo,
                               capture_output=True, text=True)
        assert check.returncode == 0, check.stderr  # exactly the reference fix landed on the host

        tmux.keys("C-q")
        screen = tmux.wait_for("CODER-EXITED:0")
        assert "Describe the bug" not in screen  # the terminal was restored (alternate screen left)
    assert server.queue == []  # the whole solution was used
