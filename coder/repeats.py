"""Detect the agent repeating the same action and decide when to hint and when to give up."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

Verdict = Literal["none", "hint", "give_up"]


@dataclass(frozen=True)
class RepeatCheck:
    verdict: Verdict
    count: int
    failing: bool


class RepeatTracker:
    """Counts identical consecutive calls. Failing repeats get a hint sooner than successful ones."""

    def __init__(self, hint_after: int, give_up_after: int) -> None:
        self.hint_after = hint_after
        self.give_up_after = give_up_after
        self._key: str | None = None
        self._count = 0
        self._all_failed = True

    def record(self, name: str, arguments: Any, ok: bool) -> RepeatCheck:
        key = name + "\0" + json.dumps(arguments, sort_keys=True, default=str)
        if key == self._key:
            self._count += 1
            self._all_failed = self._all_failed and not ok
        else:
            self._key, self._count, self._all_failed = key, 1, not ok
        # Repeating a successful call is wasteful but less alarming: allow one more before each step.
        slack = 0 if self._all_failed else 1
        if self._count >= self.give_up_after + slack:
            verdict: Verdict = "give_up"
        elif self._count >= self.hint_after + slack:
            verdict = "hint"
        else:
            verdict = "none"
        return RepeatCheck(verdict, self._count, self._all_failed)

    def reset(self) -> None:
        self._key, self._count, self._all_failed = None, 0, True
