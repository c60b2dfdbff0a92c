"""Which tool calls need the user's approval under each approval mode, and why (a pure policy over tool traits)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import PurePosixPath
from typing import Any, Literal

from coder_tools.base import ToolSpec
from coder_tools.risk import is_test_path

from ..events import ApprovalRequested, Decision

ApprovalMode = Literal["never", "risky", "always"]
Approver = Callable[[ApprovalRequested], Decision]


def guarded_test_edit(spec: ToolSpec[Any], arguments: dict[str, Any], issue: str) -> str | None:
    """Why an edit must not touch this test file unasked, or None: the tool does not edit, the file is not a test,
    or the issue names the file (then the issue asks for the change)."""
    if spec.reports != "edit":
        return None
    path = str(arguments.get("path", ""))
    if not is_test_path(path):
        return None
    name = PurePosixPath(path).name
    stem = PurePosixPath(path).stem
    if name in issue or (len(stem) >= 4 and stem in issue):
        return None
    return f"changes a test file the issue does not mention ({path}): the tests judge the fix"


def approval_reason(mode: ApprovalMode, spec: ToolSpec[Any], arguments: dict[str, Any]) -> str | None:
    """Why this call must wait for the user under MODE, or None when it may run.

    Read-only tools never wait; a call the tool itself calls risky (a shell command, a write to an unusual file) waits
    in the "risky" and "always" modes; every other call waits only in the "always" mode."""
    if mode == "never" or spec.read_only:
        return None
    risk = spec.risk(arguments) if spec.risk is not None else None
    if risk:
        return risk
    if mode == "always":
        return f"{spec.name} changes or runs something in the sandbox"
    return None
