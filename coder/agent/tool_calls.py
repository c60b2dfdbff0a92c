"""One tool call in the tool loop: validate it, ask for approval, run it, and report what followed from it."""

from __future__ import annotations

import time
from collections.abc import Generator
from typing import Any

from pydantic import ValidationError

from coder_tools.base import ToolResult, ToolSpec, format_validation_error

from ..events import (
    ApprovalDecided,
    ApprovalRequested,
    Event,
    FileEdited,
    HintGiven,
    PlanUpdated,
    ToolCallRejected,
    ToolFinished,
    ToolStarted,
)
from ..models.base import ToolCall
from ..prompts import render
from . import conversation as conv
from .approval import approval_reason, guarded_test_edit
from .repeats import RepeatTracker
from .state import RunState, Stop, check_cancel, run_final_tests, tests_event
from .strategy import StrategyContext


class ToolCaller:
    """Runs the model's tool calls for one turn of the loop; the repeat tracker lives as long as the turn."""

    def __init__(self, context: StrategyContext, tools: dict[str, ToolSpec[Any]], repeats: RepeatTracker) -> None:
        self.context = context
        self.tools = tools  # the tools the model may call
        self.repeats = repeats

    def execute(self, call: ToolCall, state: RunState) -> Generator[Event, None, str]:
        """Validate and run one call; yields its events and returns the observation text for the model."""
        ctx = self.context
        problem = self._reject_reason(call)
        declined: str | None = None
        if problem is not None:
            yield ToolCallRejected(step=state.steps, name=call.name, reason=problem)
            result = ToolResult(ok=False, output=problem)
        elif (declined := (yield from self._approval(call, state))) is not None:
            result = ToolResult(ok=False, output=declined)
        else:
            yield ToolStarted(step=state.steps, call_id=call.id, name=call.name, arguments=call.arguments)
            began = time.monotonic()
            result = ctx.sandbox.call(call.name, call.arguments)
            yield ToolFinished(step=state.steps, call_id=call.id, name=call.name, ok=result.ok, output=result.output,
                               seconds=round(time.monotonic() - began, 3))
            result = yield from self._side_events(call, result, state)
        hint = None
        spec = self.tools.get(call.name)
        if spec is None or not spec.ends_run:
            hint = yield from self._repeat_check(call, result, ran=problem is None and declined is None, state=state)
        return conv.observation(result, ctx.config.agent.observation_cap, hint)

    def _repeat_check(self, call: ToolCall, result: ToolResult, ran: bool,
                      state: RunState) -> Generator[Event, None, str | None]:
        """Record the call with the repeat tracker; give up, or return a hint for the model (None: no hint)."""
        ctx = self.context
        spec = self.tools.get(call.name)
        changed = ran and spec is not None and spec.may_have_changed(result.ok)
        check = self.repeats.record(call.name, call.arguments, result.ok and ran, result.output, changed=changed)
        if check.verdict == "give_up":
            raise Stop("stuck", f"the model repeated the same {call.name} call {check.count} times")
        if check.verdict != "hint":
            return None
        # Change course, not only ask to: the repeated tool cannot be called in the next reply (native tool calls
        # only; text-format tools cannot be narrowed). Small models ignore a hint alone.
        withhold = ctx.config.agent.tool_format == "native" and ctx.model.sends_tools
        state.withheld = call.name if withhold else None
        yield HintGiven(step=state.steps, reason=f"{call.name} repeated {check.count} times"
                        + ("" if check.in_a_row else " with the same result")
                        + ("; withheld from the next reply" if withhold else ""))
        return render(ctx.config.prompts.repeat_hint, count=check.count, failing=check.failing, name=call.name,
                      withheld=withhold, in_a_row=check.in_a_row)

    def _approval(self, call: ToolCall, state: RunState) -> Generator[Event, None, str | None]:
        """Ask the approver when the mode wants it; returns None to run the call, or the refusal the model sees.

        An edit to a test file the issue does not mention is asked about in the "risky" and "always" modes (each time:
        "always" for the tool does not cover it) and refused otherwise: the tests judge the fix."""
        ctx, spec, approver = self.context, self.tools[call.name], self.context.approver
        mode = ctx.config.agent.approval
        guarded = guarded_test_edit(spec, call.arguments, ctx.task.issue or "")
        if guarded is not None and (approver is None or mode == "never"):
            yield ToolCallRejected(step=state.steps, name=call.name, reason=guarded)
            return f"Not run: it {guarded}. Change the code under test instead; the tests decide whether it works."
        reason = guarded or approval_reason(mode, spec, call.arguments)
        if reason is None or approver is None or (guarded is None and call.name in state.always_allowed):
            return None
        request = ApprovalRequested(step=state.steps, call_id=call.id, name=call.name, arguments=dict(call.arguments),
                                    reason=reason)
        yield request
        decision = approver(request)
        yield ApprovalDecided(step=state.steps, call_id=call.id, name=call.name, decision=decision)
        if decision == "always":
            state.always_allowed.add(call.name)
        if decision == "no":
            check_cancel(state)
            return f"The user declined this call ({reason}). Do not retry it; find another way or submit."
        return None

    def _reject_reason(self, call: ToolCall) -> str | None:
        if call.parse_error:
            return f"Your tool call could not be read: {call.parse_error}. Send valid JSON arguments."
        spec = self.tools.get(call.name)
        if spec is None:
            return f"Unknown tool '{call.name}'. Available tools: {', '.join(self.tools)}."
        try:
            spec.args.model_validate(call.arguments)
        except ValidationError as exc:
            return f"Invalid arguments for {call.name}: {format_validation_error(exc)}."
        return None

    def _side_events(self, call: ToolCall, result: ToolResult,
                     state: RunState) -> Generator[Event, None, ToolResult]:
        """Events that follow from a tool's result, by what the tool reports; returns the result the model sees."""
        spec, data = self.tools[call.name], result.data
        if not result.ok:
            return result
        if spec.reports == "edit" and data.get("diff"):
            yield FileEdited(step=state.steps, path=str(data.get("path", "")), diff=str(data["diff"]))
        elif spec.reports == "plan":
            state.plan_revision += 1
            yield PlanUpdated(steps=tuple(data.get("steps", ())), revision=state.plan_revision)
        elif spec.reports == "tests" and "runner" in data:
            yield tests_event("step", data)
        if spec.ends_run:
            return (yield from self._finish(result, state))
        return result

    def _finish(self, result: ToolResult, state: RunState) -> Generator[Event, None, ToolResult]:
        """A submit: run the final tests; push back once when tests still fail and steps are left."""
        ctx = self.context
        state.summary = str(result.data.get("summary", ""))
        yield from run_final_tests(ctx.sandbox, state)
        final = state.final or {}
        failing = final.get("failed", 0) + final.get("errors", 0) if final.get("ran") else 0
        if failing and not state.submit_pushed_back and state.steps - state.turn_first_step < ctx.config.limits.max_steps:
            state.submit_pushed_back, state.final = True, None
            failures = "\n".join(f"- {f['id']}: {f.get('message', '')[:200]}" for f in final.get("failures", [])[:10])
            text = render(ctx.config.prompts.submit_check, reason=f"{failing} test(s) still fail", failures=failures)
            return ToolResult(ok=False, output=text)
        state.submitted = True
        return result
