"""Two users in one sandbox: the tool server keeps the protocol streams, commands run as a user who cannot reach them.

In the Docker sandbox the server starts as root with only CAP_SETUID, CAP_SETGID and CAP_SETPCAP and calls
`separate()` before reading its first request. It empties the capability bounding set (for itself and all it starts),
then takes real and saved uid/gid SERVER_UID and effective (hence file-system) uid/gid COMMAND_UID: files it writes
belong to the command user, so the workspace stays shared, but a command (every id COMMAND_UID) matches none of the
server's real or saved ids. The kernel then refuses it the server's /proc/PID/fd, /proc/PID/mem and ptrace (which need
all ids equal, and the server is non-dumpable besides) and signals (which need the sender's id to match the target's
real or saved id). Commands drop the server's real and saved ids in `become_command_user()` before they exec.
"""

from __future__ import annotations

import ctypes
import os

COMMAND_UID = COMMAND_GID = 1000  # the image's `coder` user: owns /workspace, /tmp files and HOME
SERVER_UID = SERVER_GID = 1001  # no login, no files: only the server's real and saved ids

_PR_SET_DUMPABLE = 4
_PR_CAPBSET_DROP = 24
_LAST_CAP = 63
_protocol_fds: list[int] = []  # the server's channel to the host, closed in every child before it changes identity


class SeparationError(RuntimeError):
    """The server could not take its own identity; it must not serve commands then."""


_libc = ctypes.CDLL(None, use_errno=True)


def _prctl(option: int, arg: int) -> int:
    result = int(_libc.prctl(option, arg, 0, 0, 0))
    if result != 0:
        return ctypes.get_errno()
    return 0


def _capabilities(field: str) -> int:
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith(field + ":"):
                return int(line.split(":", 1)[1], 16)
    raise SeparationError(f"/proc/self/status has no {field}")


def keep_from_children(*fds: int) -> None:
    """Register the protocol fds: children close them before anything else (they are close-on-exec too)."""
    _protocol_fds.extend(fds)


def separate() -> None:
    """Called by the server, as root, before anything else: become the server user described above, or raise."""
    if os.getuid() != 0:
        raise SeparationError("user separation needs the server to start as root (uid 0)")
    for cap in range(_LAST_CAP + 1):
        error = _prctl(_PR_CAPBSET_DROP, cap)
        if error not in (0, 22):  # EINVAL: the kernel has no such capability
            raise SeparationError(f"could not drop capability {cap} from the bounding set (errno {error})")
    os.setgroups([])
    os.setresgid(SERVER_GID, COMMAND_GID, SERVER_GID)
    os.setresuid(SERVER_UID, COMMAND_UID, SERVER_UID)  # leaving uid 0 everywhere clears every capability
    if _prctl(_PR_SET_DUMPABLE, 0):
        raise SeparationError("could not make the server non-dumpable")
    if os.getresuid() != (SERVER_UID, COMMAND_UID, SERVER_UID) or os.getresgid() != (SERVER_GID, COMMAND_GID, SERVER_GID):
        raise SeparationError(f"unexpected ids after separation: {os.getresuid()} {os.getresgid()}")
    if _capabilities("CapEff") or _capabilities("CapPrm") or _capabilities("CapBnd"):
        raise SeparationError("capabilities are left after separation")


def separated() -> bool:
    """Whether this process is a separated server (its real uid differs from the one it works as)."""
    return os.getuid() != os.geteuid()


def become_command_user() -> None:
    """preexec for commands: close the protocol fds and take every id of the command user, so nothing of the server
    is left; then the child may be dumpable again (it is the command user's own process, as it will be after exec,
    and so it may set its own /proc/self/oom_score_adj)."""
    for fd in _protocol_fds:
        try:
            os.close(fd)
        except OSError:
            pass
    if separated():
        gid, uid = os.getegid(), os.geteuid()
        os.setresgid(gid, gid, gid)
        os.setresuid(uid, uid, uid)
        _prctl(_PR_SET_DUMPABLE, 1)


def command_uid() -> int:
    """The uid commands run as: the effective one (the current user's outside a separated sandbox)."""
    return os.geteuid()
