"""Keep the conversation inside the model's context window: elide the oldest tool outputs first."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from ..models.base import Message
from ..models.tokens import TokenCounter, count_messages

ELIDED = "[older tool output elided to fit the model's context window]"


class ContextBudget:
    """Counts a request's tokens with the model's tokenizer and trims history that would not fit."""

    def __init__(self, window: int, counter: TokenCounter, tools: Sequence[dict[str, Any]], reserve: int) -> None:
        self.window = window
        self.counter = counter
        self.reserve = reserve  # room left for the reply
        self.tools_tokens = counter.count(json.dumps(list(tools))) if tools else 0

    def size(self, messages: Sequence[Message]) -> int:
        return self.tools_tokens + count_messages(self.counter, [m.to_openai() for m in messages])

    @property
    def limit(self) -> int:
        return max(256, self.window - self.reserve)

    def fit(self, messages: list[Message]) -> tuple[list[Message], int, int]:
        """(messages that fit, their size, how many outputs were elided). The system and task messages and the
        latest exchange are never elided; when even that does not fit, the size says so and the caller stops."""
        trimmed = list(messages)
        size = self.size(trimmed)
        elided = 0
        protected = {0, 1, len(trimmed) - 1}
        for index, message in enumerate(trimmed):
            if size <= self.limit:
                break
            if index in protected or message.role != "tool" or message.content == ELIDED:
                continue
            trimmed[index] = replace(message, content=ELIDED)
            elided += 1
            size = self.size(trimmed)
        return trimmed, size, elided
