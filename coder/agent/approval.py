"""Which tool calls need the user's approval under each approval mode, and why (a pure policy, no I/O)."""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any, Callable, Literal

from .events import ApprovalRequested, Decision

ApprovalMode = Literal["never", "risky", "always"]
Approver = Callable[[ApprovalRequested], Decision]

# Calls that only read, plan or finish: never asked about.
READ_ONLY = frozenset({"view_file", "grep", "outline", "find_definition", "find_references", "update_plan", "submit"})

# Files whose change alters how the project builds, installs or runs in CI: not where a bug fix usually goes.
BUILD_FILES = frozenset({
    "pyproject.toml", "setup.py", "setup.cfg", "requirements.txt", "tox.ini", "noxfile.py", "conftest.py",
    "package.json", "package-lock.json", "yarn.lock", "pnpm-lock.yaml", "tsconfig.json",
    "go.mod", "go.sum", "Cargo.toml", "Cargo.lock", "Makefile", "Dockerfile", "docker-compose.yml",
})


def unusual_write(path: str) -> str | None:
    """Why writing PATH is out of the ordinary (hidden or CI files, build and dependency files), or None."""
    parts = PurePosixPath(path.replace("\\", "/")).parts
    if any(part.startswith(".") and part not in (".", "..") for part in parts):
        return f"writes a hidden or CI file ({path})"
    name = parts[-1] if parts else ""
    if name in BUILD_FILES or (name.startswith("requirements") and name.endswith((".txt", ".in"))):
        return f"changes a build or dependency file ({path})"
    return None


def approval_reason(mode: ApprovalMode, name: str, arguments: dict[str, Any]) -> str | None:
    """Why this call must wait for the user under MODE, or None when it may run."""
    if mode == "never" or name in READ_ONLY:
        return None
    if name == "bash":
        command = str(arguments.get("command", ""))
        return f"runs a shell command: {command[:200]}"
    if name == "edit_file":
        unusual = unusual_write(str(arguments.get("path", "")))
        if unusual:
            return unusual
    if mode == "always":
        return f"{name} changes or runs something in the sandbox"
    return None
