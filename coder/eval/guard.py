"""SessionGuard: tracks every sandbox session the eval's workers open, so Ctrl-C can remove them all at once."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..sandboxes.base import Sandbox, SandboxError, SandboxSession, ToolResult, WorkspaceOptions


class Cancelled(SandboxError):
    """The eval is being interrupted: no new sandbox may open."""


class _GuardedSession:
    """A session that unregisters itself on close; calls after cancel fail fast."""

    def __init__(self, inner: SandboxSession, guard: SessionGuard) -> None:
        self.inner, self.guard = inner, guard
        self.name = inner.name

    def call(self, name: str, arguments: dict[str, Any], timeout: float | None = None) -> ToolResult:
        if self.guard.cancelled.is_set():
            raise Cancelled("the eval was interrupted")
        return self.inner.call(name, arguments, timeout)

    def patch(self) -> str:
        if self.guard.cancelled.is_set():
            raise Cancelled("the eval was interrupted")
        return self.inner.patch()

    def snapshot(self) -> str:
        if self.guard.cancelled.is_set():
            raise Cancelled("the eval was interrupted")
        return self.inner.snapshot()

    def restore(self, snapshot_id: str) -> list[str]:
        if self.guard.cancelled.is_set():
            raise Cancelled("the eval was interrupted")
        return self.inner.restore(snapshot_id)

    def __getattr__(self, name: str) -> Any:  # anything else the session offers
        return getattr(self.inner, name)

    def close(self) -> None:
        self.guard._forget(self)
        self.inner.close()

    def __enter__(self) -> _GuardedSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _GuardedSandbox:
    def __init__(self, inner: Sandbox, guard: SessionGuard) -> None:
        self.inner, self.guard = inner, guard
        self.name = inner.name

    def open(self, repo: Path, options: WorkspaceOptions) -> _GuardedSession:
        return self.guard.open(self.inner, repo, options)


class SessionGuard:
    """Opens sessions on behalf of workers and remembers them until they close.

    cancel() refuses new sessions, waits for the ones being opened right now (a container may exist before its
    session object does), then closes every live one, so an interrupted eval leaves no container behind."""

    def __init__(self, on_open: Callable[[SandboxSession], None] | None = None) -> None:
        self.cancelled = threading.Event()
        self._lock = threading.Condition()
        self._live: set[_GuardedSession] = set()
        self._opening = 0
        self._on_open = on_open
        self.removed = 0  # sessions closed by cancel(), over all calls

    def wrap(self, sandbox: Sandbox) -> Sandbox:
        return _GuardedSandbox(sandbox, self)

    def open(self, sandbox: Sandbox, repo: Path, options: WorkspaceOptions) -> _GuardedSession:
        with self._lock:
            if self.cancelled.is_set():
                raise Cancelled("the eval was interrupted")
            self._opening += 1
        try:
            inner = sandbox.open(repo, options)
        except BaseException:
            with self._lock:
                self._opening -= 1
                self._lock.notify_all()
            raise
        with self._lock:
            self._opening -= 1
            self._lock.notify_all()
            late = self.cancelled.is_set()
            session = _GuardedSession(inner, self)
            if not late:
                self._live.add(session)
        if late:  # cancel() already swept: this one is ours to remove
            inner.close()
            raise Cancelled("the eval was interrupted")
        if self._on_open is not None:
            self._on_open(inner)
        return session

    def _forget(self, session: _GuardedSession) -> None:
        with self._lock:
            self._live.discard(session)

    def cancel(self, wait: float = 60.0) -> int:
        """Refuse new sessions, let sessions being opened finish opening, close all; returns how many were closed."""
        self.cancelled.set()
        deadline = time.monotonic() + wait
        with self._lock:
            while self._opening and time.monotonic() < deadline:
                self._lock.wait(timeout=0.2)
            sessions = list(self._live)
            self._live.clear()
        for session in sessions:
            try:
                session.inner.close()
            except Exception:  # best effort: the next one must still be closed
                pass
        self.removed += len(sessions)
        return len(sessions)
