"""Building the conversation: plan parsing, observations, test summaries and outcome bookkeeping, opening messages."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from coder.agent import conversation
from coder.agent.conversation import (
    compare_outcomes,
    failing_ids,
    observation,
    opening_messages,
    parse_plan,
    passing_ids,
)
from coder.config import Config
from coder.task import Task
from coder_tools.base import ToolResult

TOOL = {"type": "function", "function": {"name": "view_file", "description": "Show a file.",
                                         "parameters": {"type": "object", "properties": {}}}}

# ---------------------------------------------------------------- parse_plan


def test_plan_from_numbered_lines() -> None:
    text = "My plan:\n1. Read `calc.py`\n2) Fix **add**\n  3. Run the tests  \nThen I call a tool."
    assert parse_plan(text) == ("Read `calc.py", "Fix **add", "Run the tests")


def test_plan_from_bullets() -> None:
    assert parse_plan("- look at calc.py\n* fix it\n• run tests\n") == ("look at calc.py", "fix it", "run tests")


def test_no_plan_in_prose_or_empty_text() -> None:
    assert parse_plan("I will read the file and then fix it.\n-not a bullet\n1.not a step either") == ()
    assert parse_plan("") == ()


def test_plan_steps_that_are_only_markup_are_dropped() -> None:
    assert parse_plan("1. **\n2. real step") == ("real step",)


def test_plan_capped_at_twelve_steps() -> None:
    steps = parse_plan("\n".join(f"{i}. step {i}" for i in range(1, 21)))
    assert len(steps) == 12
    assert steps[0] == "step 1" and steps[-1] == "step 12"


# ---------------------------------------------------------------- observation


def test_observation_of_a_success_is_the_output() -> None:
    assert observation(ToolResult(ok=True, output="3 passed"), cap=100) == "3 passed"


def test_observation_of_an_error_is_prefixed() -> None:
    assert observation(ToolResult(ok=False, output="no such file: x.py"), cap=100) == "ERROR: no such file: x.py"


def test_observation_appends_the_hint_after_a_blank_line() -> None:
    text = observation(ToolResult(ok=False, output="same call again"), cap=100, hint="Try another approach.")
    assert text == "ERROR: same call again\n\nTry another approach."


def test_observation_elides_output_over_the_cap() -> None:
    output = "H" * 500 + "T" * 500
    text = observation(ToolResult(ok=True, output=output), cap=300)
    assert text.startswith("H" * 200) and text.endswith("T" * 100)
    assert "[... 700 characters elided ...]" in text
    assert len(text) < len(output)


def test_observation_at_the_cap_is_kept_whole() -> None:
    output = "x" * 300
    assert observation(ToolResult(ok=True, output=output), cap=300) == output


def test_observation_of_empty_output() -> None:
    assert observation(ToolResult(ok=True, output=""), cap=100) == "(no output)"
    assert observation(ToolResult(ok=False, output=""), cap=100) == "ERROR: (no output)"


# ---------------------------------------------------------------- test outcomes


def test_summary_line() -> None:
    data = {"passed": 3, "failed": 1, "errors": 2, "skipped": 4, "runner": "pytest", "command": "pytest -q"}
    assert conversation.outcome_line(data) == "3 passed, 1 failed, 2 errors, 4 skipped (pytest: pytest -q)"


def test_summary_of_missing_fields() -> None:
    assert conversation.outcome_line({}) == "0 passed, 0 failed, 0 errors, 0 skipped (?: ?)"


OUTCOMES = {"t::a": "passed", "t::b": "failed", "t::c": "error", "t::d": "skipped", "t::e": "passed"}


def test_failing_and_passing_ids() -> None:
    assert failing_ids(OUTCOMES) == {"t::b", "t::c"}
    assert passing_ids(OUTCOMES) == {"t::a", "t::e"}
    assert failing_ids({}) == set() and passing_ids({}) == set()


def test_compare_outcomes_fail_to_pass_still_failing_and_pass_to_fail() -> None:
    before = {"fixed": "failed", "fixed_error": "error", "stuck": "failed", "broken": "passed", "fine": "passed",
              "gone": "failed"}
    after = {"fixed": "passed", "fixed_error": "passed", "stuck": "error", "broken": "failed", "fine": "passed",
             "new_fail": "failed"}
    assert compare_outcomes(before, after) == (("fixed", "fixed_error"), ("broken", "new_fail", "stuck"), ("broken",))


def test_compare_outcomes_with_nothing_changed() -> None:
    same = {"a": "passed", "b": "skipped"}
    assert compare_outcomes(same, same) == ((), (), ())


# ---------------------------------------------------------------- opening_messages


def _files(count: int) -> dict[str, str]:
    return {f"src/mod_{i:03d}.py": f"X = {i}\n" for i in range(count)}


def _opening(repo: Path, issue: str | None = None, baseline: str | None = None,
             tools: list[dict[str, Any]] | None = None, config: Config | None = None) -> tuple[str, str]:
    messages = opening_messages(Task(repo, issue), config or Config(), tools or [TOOL], baseline)
    assert [m.role for m in messages] == ["system", "user"]
    return messages[0].content, messages[1].content


def test_system_and_task_message(make_repo: Callable[..., Path]) -> None:
    repo = make_repo({"calc.py": "def add(a, b):\n    return a - b\n", "tests/test_calc.py": "x = 1\n"})
    system, user = _opening(repo, issue="add() subtracts", baseline="1 passed, 1 failed")
    assert system.startswith("You are coder")
    assert "Instructions from the repository" not in system
    assert "<issue>\nadd() subtracts\n</issue>" in user
    assert "calc.py\ntests/test_calc.py" in user and "of many" not in user
    assert "Test run before any change: 1 passed, 1 failed" in user


def test_task_message_without_an_issue_or_baseline(make_repo: Callable[..., Path]) -> None:
    repo = make_repo({"calc.py": "x = 1\n"})
    _, user = _opening(repo)
    assert "Make the failing tests in this repository pass" in user and "<issue>" not in user
    assert "Test run before any change" not in user


def test_files_list_truncated_past_sixty_files(make_repo: Callable[..., Path]) -> None:
    repo = make_repo(_files(75))
    _, user = _opening(repo)
    listed = [line for line in user.splitlines() if line.startswith("src/mod_")]
    assert len(listed) == 60
    assert "Repository files (first 60 of many):" in user


def test_sixty_files_exactly_are_not_truncated(make_repo: Callable[..., Path]) -> None:
    repo = make_repo(_files(60))
    _, user = _opening(repo)
    assert "Repository files (first 60):" in user and "of many" not in user


def test_agents_md_instructions_are_in_the_system_prompt(make_repo: Callable[..., Path]) -> None:
    repo = make_repo({"calc.py": "x = 1\n", "AGENTS.md": "Always run `make lint` before submitting.\n"})
    system, user = _opening(repo)
    assert "Instructions from the repository's AGENTS.md (follow them):" in system
    assert "Always run `make lint` before submitting." in system
    assert "AGENTS.md" in user  # also listed with the files


def test_text_tool_format_lists_the_tools_in_the_system_prompt(make_repo: Callable[..., Path]) -> None:
    repo = make_repo({"calc.py": "x = 1\n"})
    native, _ = _opening(repo)
    text, _ = _opening(repo, config=Config.model_validate({"agent": {"tool_format": "text"}}))
    assert "- view_file: Show a file." in text and "<tool_call>" in text
    assert "- view_file: Show a file." not in native
