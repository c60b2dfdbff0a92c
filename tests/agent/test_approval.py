"""The approval policy: which calls wait for the user under each mode, and why."""

from __future__ import annotations

import pytest

from coder.agent.approval import approval_reason
from coder_tools.registry import all_tools
from coder_tools.risk import unusual_write

TOOLS = all_tools()


@pytest.mark.parametrize("path, unusual", [
    ("src/app.py", False), ("README.md", False), ("pkg/requirements_parser.py", False),
    (".github/workflows/ci.yml", True), (".env", True), ("src/.hidden/x.py", True), ("pyproject.toml", True),
    ("requirements-dev.txt", True), ("web/package.json", True), ("go.mod", True), ("Makefile", True),
])
def test_unusual_writes(path: str, unusual: bool) -> None:
    assert (unusual_write(path) is not None) is unusual


def test_modes() -> None:
    bash = {"command": "rm -rf build"}
    assert approval_reason("never", TOOLS["bash"], bash) is None
    assert approval_reason("risky", TOOLS["bash"], bash) == "runs a shell command: rm -rf build"
    assert approval_reason("risky", TOOLS["edit_file"], {"path": "src/a.py"}) is None
    assert approval_reason("risky", TOOLS["edit_file"], {"path": ".github/x.yml"}) == "writes a hidden or CI file (.github/x.yml)"
    assert approval_reason("always", TOOLS["edit_file"], {"path": "src/a.py"}) == "edit_file changes or runs something in the sandbox"
    assert approval_reason("always", TOOLS["run_tests"], {}) is not None
    read_only_tools = ("view_file", "grep", "outline", "find_definition", "find_references", "localize", "update_plan",
                       "submit", "definition_source", "file_source", "test_source")
    assert {name for name, spec in TOOLS.items() if spec.read_only} == set(read_only_tools)
    for read_only in read_only_tools:
        assert approval_reason("always", TOOLS[read_only], {"path": ".env"}) is None
