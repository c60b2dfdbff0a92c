"""Process hygiene for commands the tools start: OOM-killer preference, killing a group, killing strays."""

from __future__ import annotations

import os
import signal
import time

KILL_ROUNDS = 50  # a fork bomb keeps forking while we kill: repeat until nothing is left


def child_setup() -> None:
    """preexec_fn for commands: make them the OOM killer's first choice, so a memory bomb dies, not the server."""
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


def kill_strays() -> int:
    """Kill every process of this user except this one and its ancestors (only safe inside a container)."""
    keep, uid, killed = _ancestors(), os.getuid(), 0
    for _ in range(KILL_ROUNDS):
        found = 0
        for entry in os.listdir("/proc"):
            if not entry.isdigit() or int(entry) in keep:
                continue
            try:
                if os.stat(f"/proc/{entry}").st_uid != uid:
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
