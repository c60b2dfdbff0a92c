"""Guided repair with no failing test: the model chooses the function to change among those ranked from the issue.

The choice is one tool call whose argument is an enum of the ranked functions' names, so on the bundled runtime the
tool-call grammar admits nothing else; a server without native tools answers in text, read for the first name."""

from __future__ import annotations

from collections.abc import Callable, Generator, Sequence
from dataclasses import replace
from typing import Any

from ..events import Event
from ..models.base import Message, ModelReply
from ..prompts import render
from .repair_context import Ranked, RepairContext

MAX_CHOICES = 8
HEAD_CHARS = 120
TOOL_NAME = "choose_function"

Ask = Callable[[list[Message], dict[str, Any], Sequence[dict[str, Any]]], Generator[Event, None, ModelReply]]


def label(function: Ranked) -> str:
    return f"{function.path}:{function.name}"


def choice_tool(labels: Sequence[str]) -> dict[str, Any]:
    """The one tool of the choice: its only argument is one of LABELS."""
    return {"type": "function", "function": {
        "name": TOOL_NAME, "description": "Choose the function that most likely holds the bug.",
        "parameters": {"type": "object", "properties": {"function": {"type": "string", "enum": list(labels)}},
                       "required": ["function"], "additionalProperties": False}}}


def chosen(reply: ModelReply, labels: Sequence[str]) -> str | None:
    """The label the reply chose: its tool call's argument, else the first label its text names."""
    for call in reply.tool_calls:
        value = call.arguments.get("function") if call.name == TOOL_NAME else None
        if isinstance(value, str) and value in labels:
            return value
    named = [(reply.text.find(x), x) for x in labels if x in reply.text]
    return min(named)[1] if named else None


def choose_first(repair: RepairContext, prompt: str, ask: Ask) -> Generator[Event, None, tuple[RepairContext, str]]:
    """REPAIR with the function the model chose ranked first, and a note saying what it chose (or why nothing)."""
    options = repair.ranked[:MAX_CHOICES]
    labels = [label(r) for r in options]
    if len(labels) < 2:
        return repair, ""
    functions = [{"label": label(r), "head": r.text.strip().splitlines()[0][:HEAD_CHARS] if r.text.strip() else ""}
                 for r in options]
    messages = [Message("user", render(prompt, issue=repair.issue, functions=functions))]
    reply = yield from ask(messages, {"temperature": 0.0, "max_tokens": 256}, [choice_tool(labels)])
    pick = chosen(reply, labels)
    if pick is None:
        return repair, "the model chose no listed function; kept the ranking"
    first = options[labels.index(pick)]
    return replace(repair, ranked=[first, *(r for r in repair.ranked if r is not first)]), f"the model chose {pick}"
