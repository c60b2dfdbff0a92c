"""Which tool calls need the user's approval under each approval mode, and why (a pure policy over tool traits)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from coder_tools.base import ToolSpec

from ..events import ApprovalRequested, Decision

ApprovalMode = Literal["never", "risky", "always"]
Approver = Callable[[ApprovalRequested], Decision]


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
