"""Process hygiene for commands the tools start: OOM-killer preference, killing a group, killing strays."""

from __future__ import annotations

import os
import signal
import time

from .identity import become_command_user, command_uid

KILL_ROUNDS = 50  # a fork bomb keeps forking while we kill: repeat until nothing is left


def child_setup() -> None:
    """preexec_fn for commands: the command user's ids only (in a separated sandbox), and the OOM killer's first
    choice, so a memory bomb dies, not the server."""
    become_command_user()
    try:
        with open("/proc/self/oom_score_adj", "w") as handle:
            handle.write("1000")
    except OSError:
        pass


def kill_group(pgid: int) -> None:
    """SIGKILL a process group until it is empty."""
    for _ in range(KILL_ROUNDS):
        try:
            os.killpg(pgid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            return
        time.sleep(0.01)


def _ancestors() -> set[int]:
    pids, pid = set(), os.getpid()
    while pid > 1:
        pids.add(pid)
        try:
            with open(f"/proc/{pid}/stat") as handle:
                pid = int(handle.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            break
    return pids | {1}


def _real_uid(pid: str) -> int | None:
    """The real uid of process PID from /proc/PID/status (readable even when the process made itself non-dumpable,
    which hides the owner of /proc/PID itself)."""
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                if line.startswith("Uid:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


def kill_strays() -> int:
    """Kill every process of the command user except this one and its ancestors (only safe inside a container)."""
    keep, uid, killed = _ancestors(), command_uid(), 0
    for _ in range(KILL_ROUNDS):
        found = 0
        for entry in os.listdir("/proc"):
            if not entry.isdigit() or int(entry) in keep:
                continue
            try:
                if _real_uid(entry) != uid:
                    continue
                os.kill(int(entry), signal.SIGKILL)
                found += 1
            except (OSError, ProcessLookupError):
                continue
        killed += found
        if not found:
            break
        time.sleep(0.01)
    return killed
