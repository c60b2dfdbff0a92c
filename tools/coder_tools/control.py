"""Agent-control tools: update_plan (revise the plan) and submit (declare the work done)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from .base import ToolArgs, ToolResult, ToolSpec, Workspace


class UpdatePlanArgs(ToolArgs):
    steps: list[Annotated[str, Field(max_length=300)]] = Field(
        description="The revised plan, one short step per item, in order.", min_length=1, max_length=15)


class SubmitArgs(ToolArgs):
    summary: str = Field(default="", description="One or two sentences on what you changed and why.")


def update_plan(args: UpdatePlanArgs, ws: Workspace) -> ToolResult:
    steps = [s.strip() for s in args.steps if s.strip()]
    ws.state["plan"] = steps
    return ToolResult(ok=True, output="Plan updated.", data={"steps": steps})


def submit(args: SubmitArgs, ws: Workspace) -> ToolResult:
    return ToolResult(ok=True, output="Submitted.", data={"summary": args.summary})


TOOLS = [
    ToolSpec(
        "update_plan",
        "Replace your plan with a revised list of steps. Use it when you learn something that changes the plan.",
        UpdatePlanArgs,
        update_plan,
        read_only=True,
        reports="plan",
    ),
    ToolSpec(
        "submit",
        "Finish the task. Call it once your change is made and the tests pass.",
        SubmitArgs,
        submit,
        read_only=True,
        ends_run=True,
    ),
]
