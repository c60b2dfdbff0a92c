"""The agent loop: plan, then tool calls in a sandbox until submit or a limit, reported as a stream of events."""

from __future__ import annotations

import threading
import time
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

from coder_tools.base import ToolResult, WorkspaceOptions
from coder_tools.registry import all_tools
from coder_tools.server import format_validation_error
from pydantic import ValidationError

from . import conversation as conv
from .approval import Approver, approval_reason
from .config import Config
from .context_budget import ContextBudget
from .events import (ApprovalDecided, ApprovalRequested, Event, FileEdited, HintGiven, LimitReached, ModelReplied, PlanUpdated, RunFinished, RunStarted,
                     RunStatus, TestsRan, TextStreamed, ToolCallRejected, ToolFinished, ToolStarted)
from .models.base import Message, Model, ModelError, ModelReply, ToolCall, Usage
from .prompts import render
from .repeats import RepeatTracker, may_change_workspace
from .sandboxes.base import Sandbox, SandboxSession
from .sandboxes.rpc import WorkspaceError
from .task import Task
from .trajectory import TrajectoryWriter, default_trajectory_dir

if TYPE_CHECKING:
    from .session import AgentSession


@dataclass
class _RunState:
    """Mutable bookkeeping of one run."""

    started: float = field(default_factory=time.monotonic)
    steps: int = 0
    usage: Usage = field(default_factory=Usage)
    plan_revision: int = 0
    baseline: dict[str, str] = field(default_factory=dict)
    final: dict[str, Any] | None = None
    submitted: bool = False
    submit_pushed_back: bool = False
    summary: str = ""
    status: RunStatus | None = None
    message: str = ""
    format_errors: int = 0
    needs_change: bool = True
    cancel: threading.Event = field(default_factory=threading.Event)  # set from any thread to interrupt the turn
    always_allowed: set[str] = field(default_factory=set)  # tools the user approved for the whole session
    turn_started: float = field(default_factory=time.monotonic)
    turn_first_step: int = 0
    turn_tokens: int = 0
    snapshots: list[tuple[int, str, int]] = field(default_factory=list)  # (step, workspace snapshot, messages before)
    withheld: str | None = None  # a tool the model just repeated: not callable in its next reply
    snapshot_failing: bool = False  # the last undo point could not be taken (the model has been told)

    def new_turn(self) -> None:
        """Reset what one turn decides; keep the session's totals, baseline and approvals."""
        self.final, self.submitted, self.submit_pushed_back = None, False, False
        self.status, self.message, self.format_errors = None, "", 0
        self.cancel.clear()
        self.turn_started, self.turn_first_step, self.turn_tokens = time.monotonic(), self.steps, self.usage.total_tokens


class _Stop(Exception):
    """Ends the loop with a status."""

    def __init__(self, status: RunStatus, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


class Agent:
    """The step logic of the agent; a run (or a longer conversation) is an AgentSession. Surfaces consume the events."""

    def __init__(self, model: Model, sandbox: Sandbox, config: Config, trajectory_dir: Path | None = None,
                 approver: Approver | None = None) -> None:
        self.model = model
        self.sandbox = sandbox
        self.config = config
        self.approver = approver
        self.tools = all_tools()
        self.schemas = [spec.schema() for spec in self.tools.values()]
        self.trajectory_dir = trajectory_dir or Path(config.trajectory_dir or default_trajectory_dir())
        self.trajectory_path: Path | None = None
        self._budget: ContextBudget | None = None

    def run(self, task: Task) -> Iterator[Event]:
        """One task from start to finish; the last event is always RunFinished. Every event also goes to the trajectory."""
        session = self.session(task)
        try:
            yield from session.start()
        finally:
            session.close()

    def session(self, task: Task) -> "AgentSession":
        """A conversation about TASK in one sandbox: start(), then follow_up(), undo() and interrupt()."""
        from .session import AgentSession

        return AgentSession(self, task)

    def steps(self, task: Task, messages: list[Message], session: SandboxSession, state: _RunState,
              writer: TrajectoryWriter) -> Iterator[Event]:
        """Model calls and tool calls until submit, a limit, a stop or an interrupt; sets state.status."""
        cfg = self.config
        tool_format = cfg.agent.tool_format
        repeats = RepeatTracker(cfg.agent.repeat_hint_after, cfg.agent.repeat_give_up_after)
        try:
            while True:
                self._check_cancel(state)
                limit = self._limit_reached(state)
                if limit is not None:
                    yield limit
                    raise _Stop("limit_reached", f"{limit.limit} limit reached ({limit.value:g} of {limit.maximum:g})")
                if cfg.agent.snapshots:
                    yield from self._snapshot(messages, session, state)
                state.steps += 1
                if tool_format == "native" and getattr(self.model, "sends_tools", True) is False:
                    tool_format = "text"  # the server refused native tools: describe them in the prompt instead
                    messages[0] = conv.system_message(task, cfg, self.schemas, tool_format)
                tools_for_model = self.schemas if tool_format == "native" else []
                overflow = self._fit_context(messages, tools_for_model)
                if overflow is not None:
                    yield overflow
                    raise _Stop("limit_reached", "the conversation no longer fits the model's context window")
                allowed = self._allowed(tools_for_model, state)
                writer.request(state.steps, [m.to_openai() for m in messages], [t["function"]["name"] for t in tools_for_model],
                               allowed)
                reply = yield from self._ask(messages, tools_for_model, state, allowed)
                writer.response(state.steps, reply.raw)
                if state.steps == state.turn_first_step + 1 and (plan := conv.parse_plan(reply.text)):
                    state.plan_revision += 1
                    yield PlanUpdated(plan, state.plan_revision)
                messages.append(Message("assistant", reply.text, tool_calls=reply.tool_calls))
                if not reply.tool_calls:
                    yield from self._no_tool_call(messages, state)
                    continue
                state.format_errors = 0
                for index, call in enumerate(reply.tool_calls):
                    if state.cancel.is_set():  # every call the model made still needs an answer in the history
                        for skipped in reply.tool_calls[index:]:
                            messages.append(Message("tool", "Not run: the user interrupted.", tool_call_id=skipped.id,
                                                    name=skipped.name))
                        self._check_cancel(state)
                    observation = yield from self._execute(call, session, state, repeats)
                    messages.append(Message("tool", observation, tool_call_id=call.id, name=call.name))
                    if state.submitted:
                        raise _Stop(*self._verdict(state))
        except _Stop as stop:
            state.status, state.message = stop.status, stop.message

    @staticmethod
    def _snapshot(messages: list[Message], session: SandboxSession, state: _RunState) -> Iterator[Event]:
        """The undo point before a step. When the workspace cannot be recorded (out of space, memory or inodes), the
        step has no undo point and the model is told once, so it can delete what its commands made."""
        try:
            state.snapshots.append((state.steps + 1, session.snapshot(), len(messages)))
            state.snapshot_failing = False
        except WorkspaceError as exc:
            if not state.snapshot_failing:
                state.snapshot_failing = True
                note = (f"(The workspace could not be recorded before this step, so it cannot be undone: {exc}. "
                        "Delete files your commands made that are not needed, or the final patch may fail too.)")
                messages.append(Message("user", note))
                yield HintGiven(state.steps + 1, f"workspace snapshot failed: {exc}")

    @staticmethod
    def _check_cancel(state: _RunState) -> None:
        if state.cancel.is_set():
            raise _Stop("interrupted", "interrupted by the user")

    def _fit_context(self, messages: list[Message], tools: list[dict[str, Any]]) -> LimitReached | None:
        """Elide the oldest tool outputs when the model reports a context window the request would overflow."""
        window = getattr(self.model, "context_window", None)
        counter = getattr(self.model, "token_counter", None)
        if not window or counter is None:
            return None
        if self._budget is None:
            reserve = int(getattr(getattr(self.model, "config", None), "max_tokens", None) or 1024)
            self._budget = ContextBudget(int(window), counter, tools, reserve)
        fitted, size, _elided = self._budget.fit(messages)
        messages[:] = fitted
        return LimitReached("context", size, self._budget.limit) if size > self._budget.limit else None

    @staticmethod
    def _allowed(tools: list[dict[str, Any]], state: _RunState) -> list[str] | None:
        """The tools the next reply may call: all (None), or all but the one the model just repeated (once)."""
        withheld, state.withheld = state.withheld, None
        names = [t["function"]["name"] for t in tools]
        return [n for n in names if n != withheld] if withheld in names else None

    def _ask(self, messages: list[Message], tools: list[dict[str, Any]], state: _RunState,
             allowed: list[str] | None = None) -> Iterator[Event]:
        """One model call (streamed when configured); yields TextStreamed and ModelReplied, returns the reply."""
        began = time.monotonic()
        reply: ModelReply | None = None
        # The wall-time limit holds during the model call too: a reply that would end after it is not waited for.
        left = self.config.limits.max_wall_seconds - (began - state.turn_started)
        try:
            if self.config.agent.stream:
                with closing(self.model.stream(messages, tools, allowed=allowed, timeout=left)) as deltas:  # type: ignore[type-var]
                    for delta in deltas:
                        self._check_cancel(state)
                        yield from self._check_wall_time(state)
                        if delta.text:
                            yield TextStreamed(state.steps, delta.text)
                        if delta.reply is not None:
                            reply = delta.reply
                if reply is None:
                    raise ModelError("the model stream ended without a reply")
            else:
                reply = self.model.complete(messages, tools, allowed=allowed, timeout=left)
                self._check_cancel(state)
        except ModelError:
            yield from self._check_wall_time(state)  # out of time while waiting: the limit, not a model failure
            raise
        state.usage = state.usage + reply.usage
        calls = tuple({"id": c.id, "name": c.name, "arguments": c.arguments, "parse_error": c.parse_error}
                      for c in reply.tool_calls)
        yield ModelReplied(state.steps, reply.text, calls, reply.usage.prompt_tokens, reply.usage.completion_tokens,
                           reply.usage.cached_tokens, round(time.monotonic() - began, 3))
        return reply

    def _no_tool_call(self, messages: list[Message], state: _RunState) -> Iterator[Event]:
        state.format_errors += 1
        problem = "Your reply did not contain a tool call."
        yield ToolCallRejected(state.steps, "", problem)
        if state.format_errors >= self.config.agent.repeat_give_up_after:
            raise _Stop("stuck", f"the model replied {state.format_errors} times in a row without a tool call")
        messages.append(Message("user", render(self.config.prompts.format_error, problem=problem, tool_names=list(self.tools))))

    def _execute(self, call: ToolCall, session: SandboxSession, state: _RunState, repeats: RepeatTracker) -> Iterator[Event]:
        """Validate and run one call; yields its events and returns the observation text for the model."""
        problem = self._reject_reason(call)
        declined: str | None = None
        if problem is not None:
            yield ToolCallRejected(state.steps, call.name, problem)
            result = ToolResult(ok=False, output=problem)
        elif (declined := (yield from self._approval(call, state))) is not None:
            result = ToolResult(ok=False, output=declined)
        else:
            yield ToolStarted(state.steps, call.id, call.name, call.arguments)
            began = time.monotonic()
            result = session.call(call.name, call.arguments)
            yield ToolFinished(state.steps, call.id, call.name, result.ok, result.output, round(time.monotonic() - began, 3))
            result = yield from self._side_events(call, result, session, state)
        hint = None
        if call.name != "submit":
            ran = problem is None and declined is None
            check = repeats.record(call.name, call.arguments, result.ok and ran, result.output,
                                   changed=ran and may_change_workspace(call.name, result.ok))
            if check.verdict == "give_up":
                raise _Stop("stuck", f"the model repeated the same {call.name} call {check.count} times")
            if check.verdict == "hint":
                # Change course, not only ask to: the repeated tool cannot be called in the next reply (native tool
                # calls only; text-format tools cannot be narrowed). Small models ignore a hint alone.
                withhold = self.config.agent.tool_format == "native" and getattr(self.model, "sends_tools", True) is not False
                state.withheld = call.name if withhold else None
                hint = render(self.config.prompts.repeat_hint, count=check.count, failing=check.failing, name=call.name,
                              withheld=withhold, in_a_row=check.in_a_row)
                yield HintGiven(state.steps, f"{call.name} repeated {check.count} times"
                                + ("" if check.in_a_row else " with the same result")
                                + ("; withheld from the next reply" if withhold else ""))
        return conv.observation(result, self.config.agent.observation_cap, hint)

    def _approval(self, call: ToolCall, state: _RunState) -> Iterator[Event]:
        """Ask the approver when the mode wants it; returns None to run the call, or the refusal the model sees."""
        reason = approval_reason(self.config.agent.approval, call.name, call.arguments)
        if reason is None or self.approver is None or call.name in state.always_allowed:
            return None
        request = ApprovalRequested(state.steps, call.id, call.name, dict(call.arguments), reason)
        yield request
        decision = self.approver(request)
        yield ApprovalDecided(state.steps, call.id, call.name, decision)
        if decision == "always":
            state.always_allowed.add(call.name)
        if decision == "no":
            self._check_cancel(state)
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

    def _side_events(self, call: ToolCall, result: ToolResult, session: SandboxSession, state: _RunState) -> Iterator[Event]:
        """Events that follow from a tool's result; returns the result the model should see."""
        data = result.data
        if call.name == "edit_file" and result.ok and data.get("diff"):
            yield FileEdited(state.steps, str(data.get("path", "")), str(data["diff"]))
        elif call.name == "update_plan" and result.ok:
            state.plan_revision += 1
            yield PlanUpdated(tuple(data.get("steps", ())), state.plan_revision)
        elif call.name == "run_tests" and result.ok and "runner" in data:
            yield self._tests_event("step", data)
        elif call.name == "submit" and result.ok:
            state.summary = str(data.get("summary", ""))
            yield from self._final_tests(session, state)
            final = state.final or {}
            failing = final.get("failed", 0) + final.get("errors", 0) if final.get("ran") else 0
            if failing and not state.submit_pushed_back and state.steps - state.turn_first_step < self.config.limits.max_steps:
                state.submit_pushed_back, state.final = True, None
                failures = "\n".join(f"- {f['id']}: {f.get('message', '')[:200]}" for f in final.get("failures", [])[:10])
                text = render(self.config.prompts.submit_check, reason=f"{failing} test(s) still fail", failures=failures)
                return ToolResult(ok=False, output=text)
            state.submitted = True
        return result

    def _final_tests(self, session: SandboxSession, state: _RunState) -> Iterator[Event]:
        result = session.call("run_tests", {})
        state.final = {"ran": result.ok, **result.data}
        if result.ok:
            yield self._tests_event("final", result.data)

    @staticmethod
    def _tests_event(phase: Any, data: dict[str, Any]) -> TestsRan:
        return TestsRan(phase, str(data.get("runner", "")), str(data.get("command", "")), int(data.get("passed", 0)),
                        int(data.get("failed", 0)), int(data.get("errors", 0)), int(data.get("skipped", 0)),
                        dict(data.get("tests", {})))

    def _verdict(self, state: _RunState) -> tuple[RunStatus, str]:
        final = state.final or {}
        if not final.get("ran"):
            return "resolved", "submitted; no test runner was found, so the change is untested"
        failing = int(final.get("failed", 0)) + int(final.get("errors", 0))
        if failing:
            return "not_resolved", f"submitted with {failing} test(s) still failing"
        return "resolved", "submitted and all tests pass"

    def _check_wall_time(self, state: _RunState) -> Iterator[Event]:
        """Stop the run with the wall-time limit once its time is up (while waiting for the model)."""
        limit = self._wall_time_limit(state)
        if limit is not None:
            yield limit
            raise _Stop("limit_reached", f"wall_time limit reached ({limit.value:g} of {limit.maximum:g}) while waiting for the model")

    def _wall_time_limit(self, state: _RunState) -> LimitReached | None:
        elapsed, maximum = time.monotonic() - state.turn_started, self.config.limits.max_wall_seconds
        return LimitReached("wall_time", round(elapsed, 1), maximum) if elapsed >= maximum else None

    def _limit_reached(self, state: _RunState) -> LimitReached | None:
        """Limits apply to each turn of a session (a one-shot run is one turn)."""
        limits = self.config.limits
        steps, tokens = state.steps - state.turn_first_step, state.usage.total_tokens - state.turn_tokens
        if steps >= limits.max_steps:
            return LimitReached("steps", steps, limits.max_steps)
        if tokens >= limits.max_tokens:
            return LimitReached("tokens", tokens, limits.max_tokens)
        return self._wall_time_limit(state)

    def _finished(self, state: _RunState, patch: str) -> RunFinished:
        final = state.final or {}
        f2p, still, p2f = conv.compare_outcomes(state.baseline, dict(final.get("tests", {})))
        status = state.status or "not_resolved"
        message = state.message
        if status == "resolved" and not patch.strip() and state.needs_change:
            status, message = "not_resolved", "submitted without changing anything"
        return RunFinished(status, message, patch, state.steps, round(time.monotonic() - state.started, 3),
                           state.usage.prompt_tokens, state.usage.completion_tokens, state.usage.cached_tokens,
                           f2p, still, p2f, state.summary)
