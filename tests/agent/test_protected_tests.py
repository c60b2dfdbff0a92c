"""The tests judge the fix: in the tool loop an edit to a test file needs the issue to ask for it or the user's
approval, and the final event names every test file the patch changes (issue 16, must-have 7)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from coder.agent import Agent
from coder.agent.approval import guarded_test_edit
from coder.config import Config
from coder.events import ApprovalRequested, RunFinished, ToolCallRejected
from coder.sandboxes.local import LocalSandbox
from coder.task import Task
from coder.testing import ScriptedModel, call, reply
from coder_tools.registry import all_tools
from coder_tools.risk import is_test_path

TOOLS = all_tools()
FIX = call("edit_file", path="calc.py", command="replace", old="return a - b", new="return a + b")
CHEAT = call("edit_file", path="tests/test_calc.py", command="replace", old="== 5", new="== -1")


@pytest.mark.parametrize("path, test", [
    ("tests/test_a.py", True), ("test_a.py", True), ("pkg/a_test.py", True), ("conftest.py", True),
    ("pkg/a_test.go", True), ("web/a.test.js", True), ("src/App.spec.tsx", True), ("src/FooTest.java", True),
    ("testdata/input.txt", True), ("tests/fixtures/data.json", True),
    ("src/a.py", False), ("calc/testing.py", False), ("src/contest.py", False), ("src/test_utils/x.py", False),
])
def test_what_counts_as_a_test_file(path: str, test: bool) -> None:
    assert is_test_path(path) is test


def test_an_edit_to_a_test_file_is_guarded_unless_the_issue_names_it() -> None:
    edit = TOOLS["edit_file"]
    assert guarded_test_edit(edit, {"path": "tests/test_calc.py"}, "add() is wrong") is not None
    assert guarded_test_edit(edit, {"path": "tests/test_calc.py"}, "test_calc.py asserts the wrong value") is None
    assert guarded_test_edit(edit, {"path": "tests/test_calc.py"}, "the test_calc expectation is wrong") is None
    assert guarded_test_edit(edit, {"path": "calc.py"}, "add() is wrong") is None
    assert guarded_test_edit(TOOLS["view_file"], {"path": "tests/test_calc.py"}, "") is None  # reading is fine


def run(repo: Path, tmp_path: Path, steps: list[Any], issue: str = "add() returns the wrong result",
        approver: Any = None, **overrides: Any) -> tuple[list[Any], ScriptedModel]:
    model = ScriptedModel(steps)
    agent = Agent(model, LocalSandbox(), Config.model_validate(overrides), trajectory_dir=tmp_path / "traj",
                  approver=approver)
    return list(agent.run(Task(repo=repo, issue=issue))), model


def test_the_model_cannot_make_the_tests_pass_by_editing_them(buggy_repo: Path, tmp_path: Path) -> None:
    events, model = run(buggy_repo, tmp_path, [reply("", CHEAT), reply("", FIX), reply("", call("submit"))])
    rejected = [e for e in events if isinstance(e, ToolCallRejected)]
    assert rejected and rejected[0].name == "edit_file" and "tests/test_calc.py" in rejected[0].reason
    assert "Change the code under test instead" in model.calls[1][-1].content
    final = events[-1]
    assert isinstance(final, RunFinished) and final.status == "resolved"
    assert "tests/test_calc.py" not in final.patch and final.test_files == ()


def test_an_issue_that_names_the_test_file_allows_the_edit_and_the_final_event_flags_it(buggy_repo: Path,
                                                                                        tmp_path: Path) -> None:
    fix_test = call("edit_file", path="tests/test_calc.py", command="replace", old="def test_mul", new="def test_mul2")
    events, _ = run(buggy_repo, tmp_path, [reply("", FIX), reply("", fix_test), reply("", call("submit"))],
                    issue="add() is wrong, and rename test_mul in tests/test_calc.py")
    assert not [e for e in events if isinstance(e, ToolCallRejected)]
    assert events[-1].test_files == ("tests/test_calc.py",)


def test_with_an_approval_mode_the_user_decides(buggy_repo: Path, tmp_path: Path) -> None:
    asked: list[ApprovalRequested] = []

    def approver(request: ApprovalRequested) -> str:
        asked.append(request)
        return "yes"

    events, _ = run(buggy_repo, tmp_path, [reply("", CHEAT), reply("", call("submit"))], approver=approver,
                    agent={"approval": "risky"})
    assert [r.name for r in asked] == ["edit_file"] and "test file" in asked[0].reason
    assert events[-1].test_files == ("tests/test_calc.py",)  # approved, and still flagged at the end


def test_a_test_file_changed_by_a_shell_command_is_flagged(buggy_repo: Path, tmp_path: Path) -> None:
    sneak = call("bash", command="sed -i 's/== 5/== -1/' tests/test_calc.py")
    events, _ = run(buggy_repo, tmp_path, [reply("", sneak), reply("", call("submit"))])
    assert events[-1].test_files == ("tests/test_calc.py",)
