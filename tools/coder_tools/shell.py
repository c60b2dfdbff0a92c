"""Shell tool: bash, one non-interactive command per call in the repository root, with a process-group timeout."""

from __future__ import annotations

import os
import re
import selectors
import signal
import subprocess
import threading
import time
from typing import IO

from pydantic import Field

from .base import ToolArgs, ToolError, ToolResult, ToolSpec, Workspace
from .procs import child_setup, kill_group, kill_strays
from .risk import shell_risk

DRAIN_AFTER_EXIT = 1.0  # seconds to keep reading after bash exits while background processes hold the pipe
DRAIN_AFTER_KILL = 0.5
CHUNK = 65536
# Defaults that keep common commands from waiting on a terminal; ws.options.env overrides them.
SAFE_ENV = {"PAGER": "cat", "GIT_PAGER": "cat", "GIT_TERMINAL_PROMPT": "0", "GIT_EDITOR": "true"}
_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)")


class BashArgs(ToolArgs):
    command: str = Field(
        min_length=1, description="The bash command line to run in the repository root, e.g. 'python -m pytest -q'."
    )
    timeout: float | None = Field(
        default=None,
        gt=0,
        description="Seconds before the command and all it started are killed. Default and maximum: the run's limit.",
    )


class _Capture:
    """Keeps the first and last limit/2 bytes of a stream and counts the rest, so memory stays bounded."""

    def __init__(self, limit: int) -> None:
        self.half = max(1, limit // 2)
        self.head = bytearray()
        self.tail = bytearray()
        self.total = 0

    def add(self, chunk: bytes) -> None:
        self.total += len(chunk)
        room = self.half - len(self.head)
        if room > 0:
            self.head += chunk[:room]
            chunk = chunk[room:]
        if chunk:
            self.tail += chunk
            if len(self.tail) > self.half:
                del self.tail[: len(self.tail) - self.half]

    def text(self) -> str:
        omitted = self.total - len(self.head) - len(self.tail)
        middle = f"\n[... {omitted} bytes of output omitted ...]\n" if omitted else ""
        return (bytes(self.head) + middle.encode() + bytes(self.tail)).decode("utf-8", errors="replace")


def _clean(text: str) -> str:
    """Drop colour codes and keep only the last state of lines redrawn with carriage returns (progress bars)."""
    text = _ANSI.sub("", text)
    if "\r" not in text:
        return text
    lines = []
    for line in text.split("\n"):
        parts = [p for p in line.split("\r") if p]
        lines.append(parts[-1] if parts else "")
    return "\n".join(lines)


def _pump(proc: subprocess.Popen[bytes], fd: int, cap: _Capture, deadline: float) -> str:
    """Read output until EOF, the deadline, or a while after bash exits; returns 'eof', 'timeout' or 'detached'."""
    exited_at: float | None = None
    with selectors.DefaultSelector() as sel:
        sel.register(fd, selectors.EVENT_READ)
        while True:
            now = time.monotonic()
            if exited_at is None and proc.poll() is not None:
                exited_at = now
            if exited_at is not None and now - exited_at > DRAIN_AFTER_EXIT:
                return "detached"
            if now >= deadline:
                return "timeout"
            if not sel.select(min(deadline - now, 0.1)):
                continue
            try:
                chunk = os.read(fd, CHUNK)
            except BlockingIOError:
                continue
            if not chunk:
                return "eof"
            cap.add(chunk)


def _drain(fd: int, cap: _Capture, seconds: float) -> None:
    """Read what is left in the pipe for a short while (after a kill, every writer is normally gone)."""
    end = time.monotonic() + seconds
    with selectors.DefaultSelector() as sel:
        sel.register(fd, selectors.EVENT_READ)
        while (left := end - time.monotonic()) > 0:
            if not sel.select(left):
                return
            try:
                chunk = os.read(fd, CHUNK)
            except BlockingIOError:
                continue
            if not chunk:
                return
            cap.add(chunk)


def _discard(stream: IO[bytes]) -> None:
    """Keep reading (and dropping) a pipe that background processes still write to, so they never get SIGPIPE."""
    try:
        while os.read(stream.fileno(), CHUNK):
            pass
    except (OSError, ValueError):
        pass
    finally:
        stream.close()


def _exit_text(code: int) -> str:
    if code < 0:
        try:
            return f"exit code {code} (killed by signal {signal.Signals(-code).name})"
        except ValueError:
            return f"exit code {code}"
    return f"exit code {code}"


def bash(args: BashArgs, ws: Workspace) -> ToolResult:
    """Run one command with `bash -c` in its own session.

    ok is False only when the command timed out (its whole process group is then killed) or could not start;
    a non-zero exit is a normal result (ok=True) whose output ends with "[exit code N]" for the model to read.
    data: {"exit_code": int | None (None after a timeout), "timed_out": bool}.
    """
    limit = ws.options.bash_timeout
    timeout = min(args.timeout, limit) if args.timeout else limit
    env = {**os.environ, **SAFE_ENV, **ws.options.env}
    try:
        proc = subprocess.Popen(
            ["bash", "-c", args.command],
            cwd=ws.root,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=child_setup,
        )
    except OSError as exc:
        raise ToolError(f"could not start bash: {exc}") from exc
    assert proc.stdout is not None
    fd = proc.stdout.fileno()
    os.set_blocking(fd, False)
    cap = _Capture(4 * ws.options.output_cap)
    deadline = time.monotonic() + timeout
    outcome = "timeout"
    handed_off = False
    strays = 0
    try:
        outcome = _pump(proc, fd, cap, deadline)
        if outcome == "eof":  # output closed; bash may still be finishing
            try:
                proc.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                outcome = "timeout"
        if outcome == "timeout":
            kill_group(proc.pid)
            proc.wait()
            _drain(fd, cap, DRAIN_AFTER_KILL)
        elif outcome == "detached" and ws.options.kill_strays:  # in a container nothing outlives its call
            kill_group(proc.pid)
            _drain(fd, cap, DRAIN_AFTER_KILL)
            outcome = "stopped"
        elif outcome == "detached":
            os.set_blocking(fd, True)
            threading.Thread(target=_discard, args=(proc.stdout,), daemon=True).start()
            handed_off = True
    finally:
        if proc.poll() is None:  # an exception got us here: leave nothing running
            kill_group(proc.pid)
            proc.wait()
        if not handed_off:
            proc.stdout.close()
        if ws.options.kill_strays:  # also after a clean exit: `nohup cmd >log 2>&1 &` must not outlive it either
            strays = kill_strays()
    text = _clean(cap.text()).rstrip("\n") or "(no output)"
    if outcome == "timeout":
        footer = (
            f"[timed out after {timeout:g}s; the command and every process it started were killed. "
            f"Give a larger timeout (at most {limit:g}s), or run it in the background with output sent to a file]"
        )
        return ToolResult(ok=False, output=f"{text}\n{footer}", data={"exit_code": None, "timed_out": True})
    footer = f"[{_exit_text(proc.returncode)}]"
    if outcome == "stopped" or strays:
        footer += "\n[background processes it started were stopped: in this sandbox nothing outlives its command]"
    if outcome == "detached":
        footer += (
            "\n[background processes it started are still running and holding its output; later output from them is "
            "not shown. Send their output to a file, e.g. `cmd > /tmp/cmd.log 2>&1 &`]"
        )
    return ToolResult(ok=True, output=f"{text}\n{footer}", data={"exit_code": proc.returncode, "timed_out": False})


TOOLS = [
    ToolSpec(
        "bash",
        "Run a bash command in the repository root and see its output (stdout and stderr together) and exit code. "
        "No input can be typed (stdin is empty) and each call starts a fresh shell, so cd and variables do not carry "
        "over. Long runs are killed at the timeout. Prefer view_file, edit_file and grep for reading, editing and "
        "searching files.",
        BashArgs,
        bash,
        changes_workspace="always",
        risk=shell_risk,
    ),
]
