"""Building the conversation: the opening messages, plan parsing, observations and test-outcome bookkeeping."""

from __future__ import annotations

import re
from typing import Any

from coder_tools.base import ToolResult, elide

from ..config import Config, project_instructions
from ..models.base import Message
from ..prompts import render
from ..sandboxes.repo_copy import repo_files
from ..task import Task

_PLAN_LINE = re.compile(r"^\s*(?:\d+[.)]|[-*•])\s+(.+?)\s*$")
_FILE_LIST_LIMIT = 60


def system_message(task: Task, config: Config, tools: list[dict[str, Any]], tool_format: str) -> Message:
    """The system prompt, with AGENTS.md/CODER.md and, for the text format, the tool descriptions."""
    instructions = project_instructions(task.repo)
    return Message("system", render(
        config.prompts.system,
        tool_format=tool_format,
        tools=tools,
        project_instructions=instructions[1] if instructions else "",
        project_instructions_file=instructions[0] if instructions else "",
    ))


def opening_messages(task: Task, config: Config, tools: list[dict[str, Any]], baseline: str | None) -> list[Message]:
    """System prompt and the task message."""
    system = system_message(task, config, tools, config.agent.tool_format)
    files = repo_files(task.repo)
    user = render(
        config.prompts.task,
        issue=task.issue or "",
        files=files[:_FILE_LIST_LIMIT],
        files_truncated=len(files) > _FILE_LIST_LIMIT,
        baseline=baseline or "",
    )
    return [system, Message("user", user)]


def parse_plan(text: str) -> tuple[str, ...]:
    """Numbered or bulleted lines from the model's text, as plan steps (empty when there are none)."""
    steps = []
    for line in text.splitlines():
        match = _PLAN_LINE.match(line)
        if match:
            steps.append(match.group(1).strip("*` "))
    return tuple(s for s in steps if s)[:12]


def observation(result: ToolResult, cap: int, hint: str | None = None) -> str:
    """What the model sees of a tool result."""
    body = elide(result.output, cap) if result.output else "(no output)"
    text = body if result.ok else f"ERROR: {body}"
    return f"{text}\n\n{hint}" if hint else text


def outcome_line(data: dict[str, Any]) -> str:
    """One line for prompts: 'N passed, M failed, ... (runner)'."""
    return (
        f"{data.get('passed', 0)} passed, {data.get('failed', 0)} failed, {data.get('errors', 0)} errors, "
        f"{data.get('skipped', 0)} skipped ({data.get('runner', '?')}: {data.get('command', '?')})"
    )


def failing_ids(outcomes: dict[str, str]) -> set[str]:
    return {test for test, outcome in outcomes.items() if outcome in ("failed", "error")}


def passing_ids(outcomes: dict[str, str]) -> set[str]:
    return {test for test, outcome in outcomes.items() if outcome == "passed"}


def compare_outcomes(before: dict[str, str], after: dict[str, str]) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """(fail->pass, still failing, pass->fail) test ids between two runs."""
    fail_to_pass = sorted(failing_ids(before) & passing_ids(after))
    still_failing = sorted(failing_ids(after))
    pass_to_fail = sorted(passing_ids(before) & failing_ids(after))
    return tuple(fail_to_pass), tuple(still_failing), tuple(pass_to_fail)
