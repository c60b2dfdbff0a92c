"""Test helpers shipped in the library: ScriptedModel replays a fixed list of replies through the real agent loop."""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Union

from .models.base import DEFAULT_REPLY_TOKENS, Message, ModelDelta, ModelReply, TokenCounter, ToolCall, Usage

__all__ = ["ScriptedModel", "ScriptError", "call", "reply"]

Step = Union[ModelReply, str, Callable[[Sequence[Message]], ModelReply]]


class ScriptError(AssertionError):
    """The script ran out, or was left unconsumed."""


def call(name: str, _id: str | None = None, **arguments: Any) -> ToolCall:
    """A well-formed tool call for scripts."""
    return ToolCall(id=_id or f"call_{name}", name=name, arguments=arguments, raw=json.dumps({"name": name, "arguments": arguments}))


def reply(text: str = "", *calls: ToolCall, prompt_tokens: int = 100, completion_tokens: int = 20) -> ModelReply:
    """A scripted reply with optional native tool calls."""
    return ModelReply(
        text=text,
        tool_calls=tuple(calls),
        usage=Usage(prompt_tokens=prompt_tokens, completion_tokens=completion_tokens),
        raw=text + "".join(f"\n<tool_call>\n{c.raw}\n</tool_call>" for c in calls),
        finish_reason="tool_calls" if calls else "stop",
    )


@dataclass
class ScriptedModel:
    """Answers each model call with the next scripted step and records what it was sent.

    A step is a ModelReply, a plain string (raw text, parsed for tool calls like a real endpoint's text), or a
    function of the messages. Running out of steps raises ScriptError; call ``assert_consumed()`` at the end.
    """

    steps: list[Step]
    name: str = "scripted"
    sends_tools: bool = True  # False: behaves like a server that refused native tools (the agent describes them)
    context_window: int | None = None  # with token_counter: the agent trims the conversation to fit
    token_counter: TokenCounter | None = None
    max_reply_tokens: int = DEFAULT_REPLY_TOKENS
    calls: list[list[Message]] = field(default_factory=list)
    tools_seen: list[list[str]] = field(default_factory=list)
    allowed_seen: list[list[str] | None] = field(default_factory=list)  # per call: the allowed tools (None: all)
    timeouts_seen: list[float | None] = field(default_factory=list)  # per call: the seconds the run could still wait
    sampling_seen: list[dict[str, Any] | None] = field(default_factory=list)  # per call: the sampling overrides

    def complete(self, messages: Sequence[Message], tools: Sequence[dict[str, Any]], *,
                 allowed: Collection[str] | None = None, timeout: float | None = None,
                 sampling: Mapping[str, Any] | None = None) -> ModelReply:
        self.calls.append(list(messages))
        self.sampling_seen.append(None if sampling is None else dict(sampling))
        self.timeouts_seen.append(timeout)
        self.tools_seen.append([t["function"]["name"] for t in tools])
        self.allowed_seen.append(None if allowed is None else sorted(allowed))
        if len(self.calls) > len(self.steps):
            raise ScriptError(f"ScriptedModel ran out of steps: call #{len(self.calls)} but only {len(self.steps)} scripted")
        step = self.steps[len(self.calls) - 1]
        if callable(step) and not isinstance(step, ModelReply):
            return step(messages)
        if isinstance(step, str):
            from .models.toolcall_parser import parse_tool_calls

            text, parsed = parse_tool_calls(step)
            return ModelReply(text=text, tool_calls=tuple(parsed), usage=Usage(100, 20), raw=step)
        return step

    def stream(self, messages: Sequence[Message], tools: Sequence[dict[str, Any]], *,
               allowed: Collection[str] | None = None, timeout: float | None = None,
               sampling: Mapping[str, Any] | None = None) -> Iterator[ModelDelta]:
        result = self.complete(messages, tools, allowed=allowed, timeout=timeout, sampling=sampling)
        text = result.text
        for i in range(0, len(text), 16):
            yield ModelDelta(text=text[i : i + 16])
        yield ModelDelta(reply=result)

    def close(self) -> None:
        """Nothing to release."""

    @property
    def remaining(self) -> int:
        return len(self.steps) - len(self.calls)

    def assert_consumed(self) -> None:
        if self.remaining:
            raise ScriptError(f"ScriptedModel has {self.remaining} unconsumed step(s)")
