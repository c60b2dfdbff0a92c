"""Run a function in a forked child under a wall-clock limit, so a runaway computation (a regular expression that
backtracks for ever holds the GIL and ignores signals) is killed instead of hanging the tool server."""

from __future__ import annotations

import functools
import mmap
import os
import pickle
import select
import signal
import struct
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")
_PR_SET_PDEATHSIG = 1


class TimeLimitExceeded(Exception):
    """The function ran past its limit and was killed; progress is the last value it reported."""

    def __init__(self, seconds: float, progress: int) -> None:
        super().__init__(f"took longer than {seconds:g} s")
        self.seconds = seconds
        self.progress = progress


class WorkerDied(Exception):
    """The child died without an answer (killed for memory, a crash)."""


class Progress:
    """A counter the child sets and the parent reads after a kill (shared memory, no syscalls)."""

    def __init__(self, shared: mmap.mmap | None) -> None:
        self._shared = shared

    def set(self, value: int) -> None:
        if self._shared is not None:
            struct.pack_into("q", self._shared, 0, value)

    def get(self) -> int:
        return struct.unpack_from("q", self._shared, 0)[0] if self._shared is not None else -1


def call_with_time_limit(fn: Callable[[Progress], T], seconds: float) -> T:
    """fn(progress) in a child process; its return value or exception comes back, or TimeLimitExceeded."""
    if not hasattr(os, "fork"):
        return fn(Progress(None))
    prctl = _prctl()  # looked up here: the child must not import or load anything
    shared = mmap.mmap(-1, 8)
    progress = Progress(shared)
    progress.set(-1)
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns, never flushes the server's buffers
        status = 0
        try:
            os.close(read_fd)
            _become_expendable(prctl)
            try:
                payload = pickle.dumps((True, fn(progress)))
            except Exception as exc:  # noqa: BLE001 - handed to the parent as is
                payload = _pickled_error(exc)
            _write_all(write_fd, payload)
        except BaseException:  # noqa: BLE001
            status = 1
        finally:
            os._exit(status)
    os.close(write_fd)
    try:
        data = _read_until(read_fd, time.monotonic() + seconds)
    finally:
        os.close(read_fd)
    if data is None:
        _kill(pid)
        raise TimeLimitExceeded(seconds, progress.get())
    _, wait_status = os.waitpid(pid, 0)
    if not data:
        raise WorkerDied(_describe(wait_status))
    ok, value = pickle.loads(data)
    if ok:
        return value  # type: ignore[no-any-return]
    raise value


def _pickled_error(exc: Exception) -> bytes:
    try:
        return pickle.dumps((False, exc))
    except Exception:  # noqa: BLE001 - an exception that will not pickle comes back as its text
        return pickle.dumps((False, RuntimeError(repr(exc))))


@functools.lru_cache(maxsize=1)
def _prctl() -> Callable[..., int] | None:
    try:
        import ctypes

        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None


def _become_expendable(prctl: Callable[..., int] | None) -> None:
    """First for the OOM killer, and killed with the server (Linux); best effort elsewhere."""
    try:
        with open("/proc/self/oom_score_adj", "w") as fh:
            fh.write("1000")
    except OSError:
        pass
    if prctl is not None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _read_until(fd: int, deadline: float) -> bytes | None:
    """Everything until EOF, or None when the deadline passes first."""
    chunks: list[bytes] = []
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        ready, _, _ = select.select([fd], [], [], left)
        if not ready:
            return None
        chunk = os.read(fd, 1 << 16)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    os.waitpid(pid, 0)


def _describe(wait_status: int) -> str:
    if os.WIFSIGNALED(wait_status):
        sig = os.WTERMSIG(wait_status)
        return f"killed by signal {sig}" + (" (out of memory?)" if sig == signal.SIGKILL else "")
    return f"exited with status {os.waitstatus_to_exitcode(wait_status)}"
