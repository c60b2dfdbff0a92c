"""Which process owns a sandbox container: labels written at creation, so `coder sandbox prune` removes only what a
dead process left behind and never the sandbox of a run still going (a `coder eval` beside it, another terminal)."""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping
from typing import Literal

HOST, PID, STARTED = "org.coder.owner.host", "org.coder.owner.pid", "org.coder.owner.started"
Liveness = Literal["alive", "gone", "unknown"]


def _start_time(pid: int) -> str:
    """The process's start time in clock ticks since boot (/proc), which tells a reused PID apart; '' elsewhere."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat:
            # The command name (field 2) is in parentheses and may hold spaces: count fields after the last ')'.
            return stat.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return ""


def owner_labels() -> dict[str, str]:
    """Labels naming this process as the container's owner."""
    pid = os.getpid()
    return {HOST: socket.gethostname(), PID: str(pid), STARTED: _start_time(pid)}


def owner_pid(labels: Mapping[str, str]) -> int | None:
    try:
        return int(labels.get(PID, ""))
    except ValueError:
        return None


def liveness(labels: Mapping[str, str]) -> Liveness:
    """Whether the owner named by LABELS still runs: 'unknown' without owner labels or for another host's process."""
    pid = owner_pid(labels)
    if pid is None or labels.get(HOST) != socket.gethostname():
        return "unknown"
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return "gone"
    except PermissionError:
        pass  # it exists, under another user
    started = labels.get(STARTED, "")
    if started and _start_time(pid) not in ("", started):
        return "gone"  # the PID was reused by a later process
    return "alive"
