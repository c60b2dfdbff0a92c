"""The "tools" strategy: the free tool loop. The model plans, then calls tools in the sandbox until it submits."""

from __future__ import annotations

import time
from collections.abc import Generator, Iterator
from contextlib import closing
from typing import Any

from ..events import Event, HintGiven, LimitReached, ModelReplied, PlanUpdated, TextStreamed, ToolCallRejected
from ..models.base import Message, ModelError, ModelReply
from ..prompts import render
from ..sandboxes.rpc import WorkspaceError
from . import conversation as conv
from .context_budget import ContextBudget
from .repeats import RepeatTracker
from .state import RunState, Stop, check_cancel, turn_limit, verdict, wall_time_limit
from .strategy import StrategyContext
from .tool_calls import ToolCaller


class ToolLoop:
    """Model calls and tool calls until submit, a limit, a stop or an interrupt (see strategy.Strategy)."""

    def __init__(self, context: StrategyContext) -> None:
        self.context = context
        self.tools = {name: spec for name, spec in context.tools.items() if spec.offered}  # what the model may call
        self.schemas = [spec.schema() for spec in self.tools.values()]
        self.messages: list[Message] = []
        self._budget: ContextBudget | None = None
        self._budget_counts_tools = False

    def begin(self, baseline: str | None) -> None:
        self.messages = conv.opening_messages(self.context.task, self.context.config, self.schemas, baseline)

    def follow_up(self, text: str) -> None:
        self.messages.append(Message("user", text))

    def turn(self, state: RunState) -> Iterator[Event]:
        ctx, messages = self.context, self.messages
        cfg, model = ctx.config, ctx.model
        tool_format = cfg.agent.tool_format
        caller = ToolCaller(ctx, self.tools, RepeatTracker(cfg.agent.repeat_hint_after, cfg.agent.repeat_give_up_after))
        while True:
            check_cancel(state)
            limit = turn_limit(state, cfg.limits)
            if limit is not None:
                yield limit
                raise Stop("limit_reached", f"{limit.limit} limit reached ({limit.value:g} of {limit.maximum:g})")
            if cfg.agent.snapshots:
                yield from self._snapshot(state)
            state.steps += 1
            if tool_format == "native" and not model.sends_tools:
                tool_format = "text"  # the server refused native tools: describe them in the prompt instead
                messages[0] = conv.system_message(ctx.task, cfg, self.schemas, tool_format)
            tools_for_model = self.schemas if tool_format == "native" else []
            overflow = self._fit_context(tools_for_model)
            if overflow is not None:
                yield overflow
                raise Stop("limit_reached", "the conversation no longer fits the model's context window")
            allowed = self._allowed(tools_for_model, state)
            ctx.trajectory.request(state.steps, [m.to_openai() for m in messages],
                                   [t["function"]["name"] for t in tools_for_model], allowed)
            reply = yield from self._ask(tools_for_model, state, allowed)
            ctx.trajectory.response(state.steps, reply.raw)
            if state.steps == state.turn_first_step + 1 and (plan := conv.parse_plan(reply.text)):
                state.plan_revision += 1
                yield PlanUpdated(steps=plan, revision=state.plan_revision)
            messages.append(Message("assistant", reply.text, tool_calls=reply.tool_calls))
            if not reply.tool_calls:
                yield from self._no_tool_call(state)
                continue
            state.format_errors = 0
            for index, call in enumerate(reply.tool_calls):
                if state.cancel.is_set():  # every call the model made still needs an answer in the history
                    for skipped in reply.tool_calls[index:]:
                        messages.append(Message("tool", "Not run: the user interrupted.", tool_call_id=skipped.id,
                                                name=skipped.name))
                    check_cancel(state)
                observation = yield from caller.execute(call, state)
                messages.append(Message("tool", observation, tool_call_id=call.id, name=call.name))
                if state.submitted:
                    raise Stop(*verdict(state))

    def _snapshot(self, state: RunState) -> Iterator[Event]:
        """The undo point before a step. When the workspace cannot be recorded (out of space, memory or inodes), the
        step has no undo point and the model is told once, so it can delete what its commands made."""
        try:
            state.snapshots.append((state.steps + 1, self.context.sandbox.snapshot(), len(self.messages)))
            state.snapshot_failing = False
        except WorkspaceError as exc:
            if not state.snapshot_failing:
                state.snapshot_failing = True
                note = (f"(The workspace could not be recorded before this step, so it cannot be undone: {exc}. "
                        "Delete files your commands made that are not needed, or the final patch may fail too.)")
                self.messages.append(Message("user", note))
                yield HintGiven(step=state.steps + 1, reason=f"workspace snapshot failed: {exc}")

    def _fit_context(self, tools: list[dict[str, Any]]) -> LimitReached | None:
        """Elide the oldest tool outputs when the model reports a context window the request would overflow.

        The budget counts the tool schemas only while they go to the model natively: once the loop describes the
        tools in the system prompt instead, the prompt already holds them."""
        model = self.context.model
        window, counter = model.context_window, model.token_counter
        if not window or counter is None:
            return None
        if self._budget is None or self._budget_counts_tools != bool(tools):
            self._budget = ContextBudget(window, counter, tools, model.max_reply_tokens)
            self._budget_counts_tools = bool(tools)
        fitted, size, _elided = self._budget.fit(self.messages)
        self.messages[:] = fitted
        limit = self._budget.limit
        return LimitReached(limit="context", value=size, maximum=limit) if size > limit else None

    @staticmethod
    def _allowed(tools: list[dict[str, Any]], state: RunState) -> list[str] | None:
        """The tools the next reply may call: all (None), or all but the one the model just repeated (once)."""
        withheld, state.withheld = state.withheld, None
        names = [t["function"]["name"] for t in tools]
        return [n for n in names if n != withheld] if withheld in names else None

    def _ask(self, tools: list[dict[str, Any]], state: RunState,
             allowed: list[str] | None) -> Generator[Event, None, ModelReply]:
        """One model call (streamed when configured); yields TextStreamed and ModelReplied, returns the reply."""
        model, config = self.context.model, self.context.config
        began = time.monotonic()
        reply: ModelReply | None = None
        # The wall-time limit holds during the model call too: a reply that would end after it is not waited for.
        left = config.limits.max_wall_seconds - (began - state.turn_started)
        try:
            if config.agent.stream:
                with closing(model.stream(self.messages, tools, allowed=allowed, timeout=left)) as deltas:  # type: ignore[type-var]
                    for delta in deltas:
                        check_cancel(state)
                        yield from self._check_wall_time(state)
                        if delta.text:
                            yield TextStreamed(step=state.steps, text=delta.text)
                        if delta.reply is not None:
                            reply = delta.reply
                if reply is None:
                    raise ModelError("the model stream ended without a reply")
            else:
                reply = model.complete(self.messages, tools, allowed=allowed, timeout=left)
                check_cancel(state)
        except ModelError:
            yield from self._check_wall_time(state)  # out of time while waiting: the limit, not a model failure
            raise
        state.usage = state.usage + reply.usage
        calls = tuple({"id": c.id, "name": c.name, "arguments": c.arguments, "parse_error": c.parse_error}
                      for c in reply.tool_calls)
        yield ModelReplied(step=state.steps, text=reply.text, tool_calls=calls, prompt_tokens=reply.usage.prompt_tokens,
                           completion_tokens=reply.usage.completion_tokens, cached_tokens=reply.usage.cached_tokens,
                           seconds=round(time.monotonic() - began, 3))
        return reply

    def _no_tool_call(self, state: RunState) -> Iterator[Event]:
        config = self.context.config
        state.format_errors += 1
        problem = "Your reply did not contain a tool call."
        yield ToolCallRejected(step=state.steps, name="", reason=problem)
        if state.format_errors >= config.agent.repeat_give_up_after:
            raise Stop("stuck", f"the model replied {state.format_errors} times in a row without a tool call")
        self.messages.append(Message("user", render(config.prompts.format_error, problem=problem,
                                                    tool_names=list(self.tools))))

    def _check_wall_time(self, state: RunState) -> Iterator[Event]:
        """Stop the turn with the wall-time limit once its time is up (while waiting for the model)."""
        limit = wall_time_limit(state, self.context.config.limits)
        if limit is not None:
            yield limit
            raise Stop("limit_reached",
                       f"wall_time limit reached ({limit.value:g} of {limit.maximum:g}) while waiting for the model")
