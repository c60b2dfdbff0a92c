"""Why a call needs the user's approval even in the "risky" mode: shell commands, and writes to unusual files."""

from __future__ import annotations

import re
from pathlib import PurePosixPath
from typing import Any

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


_TEST_DIRS = frozenset({"test", "tests", "testing", "__tests__", "spec", "specs", "testdata", "test_data", "fixtures",
                        "e2e"})
_TEST_NAME = re.compile(
    r"^(test_.*\.py|.*_test\.py|conftest\.py|.*_test\.go|.*[._-](test|spec)\.[cm]?[jt]sx?|test\.[cm]?[jt]s"
    r"|.*Tests?\.java)$")


def is_test_path(path: str) -> bool:
    """Whether PATH is a test file or test data by the usual layouts (tests/, test_*.py, *_test.go, *.test.js, ...).

    The tests judge a fix, so a change to them is flagged and, in the tool loop, needs the issue or the user."""
    parts = PurePosixPath(path.replace("\\", "/")).parts
    if any(part.lower() in _TEST_DIRS for part in parts[:-1]):
        return True
    return bool(parts) and _TEST_NAME.match(parts[-1]) is not None


def edit_risk(arguments: dict[str, Any]) -> str | None:
    """An edit is risky when it writes an unusual file."""
    return unusual_write(str(arguments.get("path", "")))


def shell_risk(arguments: dict[str, Any]) -> str | None:
    """Every shell command is risky: it can do anything the sandbox allows."""
    return f"runs a shell command: {str(arguments.get('command', ''))[:200]}"
