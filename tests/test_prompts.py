"""Prompt templates rendered with a fixed context and compared with tests/snapshots/prompts (CODER_UPDATE_SNAPSHOTS=1 rewrites)."""

from __future__ import annotations

import difflib
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jinja2
import pytest

from coder.agent.conversation import opening_messages
from coder.config import Config, PromptsConfig
from coder.prompts import render
from coder.resources import resource_dir
from coder.task import Task

SNAPSHOT_DIR = Path(__file__).parent / "snapshots" / "prompts"
UPDATE = os.environ.get("CODER_UPDATE_SNAPSHOTS") == "1"

# A fixed stand-in for coder_tools.registry.tool_schemas(), so tool changes do not churn the prompt snapshots.
FAKE_TOOLS: list[dict[str, Any]] = [
    {"type": "function", "function": {
        "name": "view_file", "description": "Show a file with line numbers.",
        "parameters": {"type": "object", "properties": {"path": {"type": "string", "description": "Relative path."},
                                                        "start_line": {"type": "integer"}},
                       "required": ["path"]}}},
    {"type": "function", "function": {
        "name": "submit", "description": "Finish the task.",
        "parameters": {"type": "object", "properties": {"summary": {"type": "string", "default": ""}}}}},
]

SYSTEM_BASE = {"tools": FAKE_TOOLS, "project_instructions": "", "project_instructions_file": ""}
TASK_BASE = {"issue": "add() subtracts instead of adding.\n\nSteps: add(2, 3) returns -1.",
             "files": ["calc.py", "tests/test_calc.py"], "files_truncated": False, "baseline": ""}

REPAIR_BASE: dict[str, Any] = {
    "issue": "add() subtracts instead of adding.",
    "tests": [{"path": "tests/test_calc.py", "language": "python", "text": "def test_add():\n    assert add(2, 3) == 5"}],
    "failure": "tests/test_calc.py::test_add:\nassert -1 == 5",
    "functions": [{"path": "calc.py", "language": "python", "text": "def add(a, b):\n    return a - b", "name": "add"}],
    "whole": "",
}
FEEDBACK_BASE: dict[str, Any] = {"functions": "calc.py:add", "language": "python", "code": "def add(a, b):\n    return b - a",
                                 "fixed": 0, "failing": 1, "broken": [], "more_broken": 0, "failure": "assert 1 == 5"}

# snapshot name -> (template, context)
CASES: dict[str, tuple[str, dict[str, Any]]] = {
    "repair_system": ("repair.j2", {**REPAIR_BASE, "part": "system"}),
    "repair_user": ("repair.j2", {**REPAIR_BASE, "part": "user"}),
    "repair_user_no_issue_no_test": ("repair.j2", {**REPAIR_BASE, "part": "user", "issue": "", "tests": [],
                                                   "failure": ""}),
    "repair_user_whole_file": ("repair.j2", {**REPAIR_BASE, "part": "user", "whole": "LIMIT = 3\n\n\ndef add(a, b):\n"
                                                                                      "    return a - b\n"}),
    "repair_code": ("repair_code.j2", {"language": "python"}),
    "repair_feedback": ("repair_feedback.j2", {**FEEDBACK_BASE}),
    "repair_feedback_broke": ("repair_feedback.j2", {**FEEDBACK_BASE, "fixed": 1, "broken": ["tests/test_calc.py::test_mul"],
                                                     "failure": "tests/test_calc.py::test_mul: assert 5 == 6"}),
    "repair_feedback_broke_many": ("repair_feedback.j2", {**FEEDBACK_BASE, "fixed": 1, "failing": 2,
                                                          "broken": ["t.py::a", "t.py::b", "t.py::c"], "more_broken": 2,
                                                          "failure": ""}),
    "repro_test_system": ("repro_test.j2", {"part": "system"}),
    "repro_test_user": ("repro_test.j2", {"part": "user", "issue": "add(2, 3) returns -1:\n```python\n>>> add(2, 3)\n-1\n```",
                                          "example": {"path": "tests/test_calc.py", "language": "python",
                                                      "text": "from calc import mul\n\n\ndef test_mul():\n    assert mul(2, 3) == 6"},
                                          "functions": REPAIR_BASE["functions"], "path": "tests/test_coder_repro.py"}),
    "choose": ("choose.j2", {"issue": "Totals are off: `add()` or `mul()` is wrong.",
                             "functions": [{"label": "calc.py:add", "head": "def add(a, b):"},
                                           {"label": "calc.py:mul", "head": "def mul(a, b):"}]}),
    "system_native": ("system.j2", {**SYSTEM_BASE, "tool_format": "native"}),
    "system_text": ("system.j2", {**SYSTEM_BASE, "tool_format": "text"}),
    "system_native_agents_md": ("system.j2", {**SYSTEM_BASE, "tool_format": "native",
                                              "project_instructions": "Run tests with `make test`.\nUse tabs.",
                                              "project_instructions_file": "AGENTS.md"}),
    "task_issue": ("task.j2", TASK_BASE),
    "task_no_issue_baseline_truncated": ("task.j2", {**TASK_BASE, "issue": "", "files_truncated": True,
                                                     "baseline": "1 passed, 1 failed, 0 errors, 0 skipped "
                                                                 "(pytest: python -m pytest)"}),
    "format_error": ("format_error.j2", {"problem": "Your reply contained no tool call.",
                                         "tool_names": ["view_file", "edit_file", "submit"]}),
    "repeat_hint_edit_file": ("repeat_hint.j2", {"count": 2, "failing": True, "name": "edit_file", "withheld": False,
                                                 "in_a_row": True}),
    "repeat_hint_view_file": ("repeat_hint.j2", {"count": 3, "failing": False, "name": "view_file", "withheld": False,
                                                 "in_a_row": True}),
    "repeat_hint_other": ("repeat_hint.j2", {"count": 2, "failing": True, "name": "bash", "withheld": False,
                                             "in_a_row": True}),
    "repeat_hint_withheld": ("repeat_hint.j2", {"count": 3, "failing": False, "name": "update_plan", "withheld": True,
                                                "in_a_row": True}),
    "repeat_hint_echo": ("repeat_hint.j2", {"count": 3, "failing": True, "name": "edit_file", "withheld": True,
                                            "in_a_row": False}),
    "submit_check_failures": ("submit_check.j2", {"reason": "1 test still fails",
                                                  "failures": "tests/test_calc.py::test_add"}),
    "submit_check_no_failures": ("submit_check.j2", {"reason": "you have not changed any file", "failures": ""}),
}


def check_snapshot(name: str, text: str) -> None:
    """Compare TEXT with the stored snapshot NAME, or write it when CODER_UPDATE_SNAPSHOTS=1."""
    path = SNAPSHOT_DIR / f"{name}.txt"
    content = text + "\n"
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
        return
    if not path.exists():
        pytest.fail(f"no snapshot {path}; run with CODER_UPDATE_SNAPSHOTS=1 to create it")
    stored = path.read_text(encoding="utf-8")
    if stored != content:
        diff = "".join(difflib.unified_diff(stored.splitlines(True), content.splitlines(True),
                                            f"{path.name} (stored)", f"{path.name} (rendered)"))
        pytest.fail(f"prompt snapshot {name} changed; review and rerun with CODER_UPDATE_SNAPSHOTS=1:\n{diff}")


@pytest.mark.parametrize("name", sorted(CASES))
def test_template_snapshot(name: str) -> None:
    template, context = CASES[name]
    check_snapshot(name, render(template, **context))


def test_text_format_lists_every_tool() -> None:
    text = render("system.j2", **CASES["system_text"][1])
    native = render("system.j2", **CASES["system_native"][1])
    for tool in FAKE_TOOLS:
        assert f"- {tool['function']['name']}: " in text
        assert tool["function"]["name"] + ":" not in native
    assert '"required": ["path"]' in text


def test_opening_messages_snapshot(make_repo: Callable[..., Path]) -> None:
    repo = make_repo({"calc.py": "def add(a, b):\n    return a - b\n", "tests/test_calc.py": "import calc\n",
                      "CODER.md": "Keep changes small.\n"})
    config = Config.model_validate({"agent": {"tool_format": "text"}})
    task = Task(repo=repo, issue="add() is wrong")
    messages = opening_messages(task, config, FAKE_TOOLS, baseline="0 passed, 1 failed")
    assert [m.role for m in messages] == ["system", "user"]
    check_snapshot("opening_messages", "\n\n=====\n\n".join(f"[{m.role}]\n{m.content}" for m in messages))


def test_every_template_has_a_snapshot_case() -> None:
    templates = {p.name for p in resource_dir("prompts").glob("*.j2")}
    assert templates == {template for template, _ in CASES.values()}


def test_configured_templates_exist() -> None:
    templates = {p.name for p in resource_dir("prompts").glob("*.j2")}
    assert set(PromptsConfig().model_dump().values()) <= templates


def test_no_stale_snapshots() -> None:
    if UPDATE:
        pytest.skip("updating snapshots")
    stored = {p.stem for p in SNAPSHOT_DIR.glob("*.txt")}
    assert stored == set(CASES) | {"opening_messages"}, "delete snapshots that no test writes"


@pytest.mark.parametrize("template", sorted({template for template, _ in CASES.values()}))
def test_missing_variable_raises(template: str) -> None:
    with pytest.raises(jinja2.UndefinedError):
        render(template)


def test_missing_variable_in_a_taken_branch_raises() -> None:
    context = {**CASES["system_text"][1]}
    del context["tools"]
    with pytest.raises(jinja2.UndefinedError, match="tools"):
        render("system.j2", **context)
    task_context = {**TASK_BASE}
    del task_context["files"]
    with pytest.raises(jinja2.UndefinedError, match="files"):
        render("task.j2", **task_context)


def test_text_format_schemas_are_not_html_escaped() -> None:
    tool = {"type": "function", "function": {"name": "grep", "description": "d", "parameters": {
        "type": "object", "properties": {"pattern": {"type": "string", "description": "e.g. 'a<b' & 'c>d'"}}}}}
    text = render("system.j2", **{**SYSTEM_BASE, "tool_format": "text", "tools": [tool]})
    assert "e.g. 'a<b' & 'c>d'" in text
