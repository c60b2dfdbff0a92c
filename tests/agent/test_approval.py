"""The approval policy: which calls wait for the user under each mode, and why."""

from __future__ import annotations

import pytest

from coder.approval import approval_reason, unusual_write


@pytest.mark.parametrize("path, unusual", [
    ("src/app.py", False), ("README.md", False), ("pkg/requirements_parser.py", False),
    (".github/workflows/ci.yml", True), (".env", True), ("src/.hidden/x.py", True), ("pyproject.toml", True),
    ("requirements-dev.txt", True), ("web/package.json", True), ("go.mod", True), ("Makefile", True),
])
def test_unusual_writes(path: str, unusual: bool) -> None:
    assert (unusual_write(path) is not None) is unusual


def test_modes() -> None:
    bash = {"command": "rm -rf build"}
    assert approval_reason("never", "bash", bash) is None
    assert approval_reason("risky", "bash", bash) == "runs a shell command: rm -rf build"
    assert approval_reason("risky", "edit_file", {"path": "src/a.py"}) is None
    assert approval_reason("risky", "edit_file", {"path": ".github/x.yml"}) == "writes a hidden or CI file (.github/x.yml)"
    assert approval_reason("always", "edit_file", {"path": "src/a.py"}) == "edit_file changes or runs something in the sandbox"
    assert approval_reason("always", "run_tests", {}) is not None
    for read_only in ("view_file", "grep", "outline", "find_definition", "find_references", "update_plan", "submit"):
        assert approval_reason("always", read_only, {"path": ".env"}) is None
