"""The sandbox seam: put a copy of the repo somewhere isolated, start the tool server there, hand back a session."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from coder_tools.base import ToolResult, WorkspaceOptions

from ..errors import SandboxError as SandboxError  # re-exported: where sandboxes raise it

__all__ = ["Sandbox", "SandboxSession", "SandboxError", "ToolResult", "WorkspaceOptions"]




@runtime_checkable
class SandboxSession(Protocol):
    """A live sandbox with its warm tool server. Close it (or use it as a context manager) when done."""

    name: str

    def call(self, name: str, arguments: dict[str, Any], timeout: float | None = None) -> ToolResult:
        """Run one tool in the sandbox."""
        ...

    def patch(self) -> str:
        """The workspace's changes since the start, as a git patch."""
        ...

    def snapshot(self) -> str:
        """Record the workspace as it is now (shell side effects included); returns an id for restore()."""
        ...

    def restore(self, snapshot_id: str) -> list[str]:
        """Put the workspace back to a snapshot; returns the paths that changed."""
        ...

    def close(self) -> None:
        """Stop the tool server and remove the sandbox; safe to call twice."""
        ...

    def __enter__(self) -> SandboxSession: ...

    def __exit__(self, *exc: object) -> None: ...


@runtime_checkable
class Sandbox(Protocol):
    """Factory for sessions: one per run."""

    name: str

    def open(self, repo: Path, options: WorkspaceOptions) -> SandboxSession:
        """Copy REPO (tracked and untracked-not-ignored files) in and start the tool server."""
        ...
