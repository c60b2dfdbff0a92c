"""The model seam: messages, tool calls, replies, and the Model Protocol every backend implements."""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

from ..errors import ModelError as ModelError  # re-exported: where models raise it

Role = Literal["system", "user", "assistant", "tool"]


@dataclass(frozen=True)
class ToolCall:
    """One call the model asked for. parse_error is set when its arguments could not be read."""

    id: str
    name: str
    arguments: dict[str, Any]
    raw: str = ""
    parse_error: str | None = None


@dataclass(frozen=True)
class Message:
    """One chat message in the conversation sent to the model."""

    role: Role
    content: str
    tool_calls: tuple[ToolCall, ...] = ()
    tool_call_id: str | None = None
    name: str | None = None

    def to_openai(self) -> dict[str, Any]:
        """The OpenAI chat-completions dict for this message."""
        import json

        msg: dict[str, Any] = {"role": self.role, "content": self.content}
        if self.tool_calls:
            msg["tool_calls"] = [
                {
                    "id": c.id,
                    "type": "function",
                    "function": {"name": c.name, "arguments": json.dumps(c.arguments, ensure_ascii=False)},
                }
                for c in self.tool_calls
            ]
        if self.tool_call_id is not None:
            msg["tool_call_id"] = self.tool_call_id
        if self.name is not None and self.role == "tool":
            msg["name"] = self.name
        return msg


@dataclass(frozen=True)
class Usage:
    """Token counts for one model call (cached_tokens: prompt tokens served from a prefix cache)."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.prompt_tokens + other.prompt_tokens,
            self.completion_tokens + other.completion_tokens,
            self.cached_tokens + other.cached_tokens,
        )

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass(frozen=True)
class ModelReply:
    """A complete reply: visible text (tool-call markup removed), tool calls, usage and the raw text."""

    text: str
    tool_calls: tuple[ToolCall, ...] = ()
    usage: Usage = field(default_factory=Usage)
    raw: str = ""
    finish_reason: str | None = None


@dataclass(frozen=True)
class ModelDelta:
    """A streamed piece of a reply; the last one carries the assembled reply."""

    text: str = ""
    reply: ModelReply | None = None




class TokenCounter(Protocol):
    """Counts tokens the way the model does (exact) or by an estimate that says so."""

    exact: bool

    def count(self, text: str) -> int: ...


DEFAULT_REPLY_TOKENS = 1024  # room kept for a reply when the model's config sets no max_tokens


@runtime_checkable
class Model(Protocol):
    """Anything that can answer a conversation, optionally with tool calls.

    ALLOWED (None: every tool) names the tools the model may call in this reply. TOOLS stays the whole set, so a
    server that caches the prompt's prefix (where the tools are described) keeps its cache when ALLOWED narrows.
    TIMEOUT (None: the model's own) is the most seconds the run can still wait for this reply: a model may give up
    sooner with ModelError, and should not retry past it. SAMPLING overrides the configured sampling for this reply
    (e.g. {"temperature": 0.0} for a greedy first candidate, {"temperature": 0.8, "seed": 3} for the next).

    What the agent needs to know about a model is part of the Protocol, never probed or set from outside:
    sends_tools (tool schemas go to the server natively; False once a server rejected them, or when configured off:
    the agent then describes the tools in the prompt), context_window and token_counter (None when unknown: the agent
    then cannot trim the conversation to fit), and max_reply_tokens (room kept in the window for the reply)."""

    name: str

    @property
    def sends_tools(self) -> bool: ...

    @property
    def context_window(self) -> int | None: ...

    @property
    def token_counter(self) -> TokenCounter | None: ...

    @property
    def max_reply_tokens(self) -> int: ...

    def close(self) -> None:
        """Release the client's connections (the model's server, if any, is not stopped)."""
        ...

    def complete(self, messages: Sequence[Message], tools: Sequence[dict[str, Any]], *,
                 allowed: Collection[str] | None = None, timeout: float | None = None,
                 sampling: Mapping[str, Any] | None = None) -> ModelReply:
        """Return the whole reply at once."""
        ...

    def stream(self, messages: Sequence[Message], tools: Sequence[dict[str, Any]], *,
               allowed: Collection[str] | None = None, timeout: float | None = None,
               sampling: Mapping[str, Any] | None = None) -> Iterator[ModelDelta]:
        """Yield text deltas; the final delta has .reply set."""
        ...
