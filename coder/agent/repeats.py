"""Detect the agent repeating the same action and decide when to hint and when to give up."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any, Literal

Verdict = Literal["none", "hint", "give_up"]
_SEVERITY: dict[Verdict, int] = {"none": 0, "hint": 1, "give_up": 2}


@dataclass(frozen=True)
class RepeatCheck:
    verdict: Verdict
    count: int
    failing: bool
    in_a_row: bool = True  # False: the same call and result came back with other calls in between


class RepeatTracker:
    """Counts repeated calls two ways and reports the stronger verdict.

    In a row: the identical call made again and again. Echoes: the identical call getting the identical result again
    while nothing in the workspace changed, with other calls in between (the 1.5B model alternated a failing
    edit_file with the same view_file for 10 steps; a count of consecutive calls never saw it). Any call that may
    change the workspace (a successful edit, a shell command) forgets the echoes: the same call may then mean
    something new. Failing repeats get a hint sooner than successful ones.
    """

    def __init__(self, hint_after: int, give_up_after: int) -> None:
        self.hint_after = hint_after
        self.give_up_after = give_up_after
        self._key: str | None = None
        self._count = 0
        self._all_failed = True
        self._echoes: dict[str, tuple[int, bool]] = {}  # call and result -> (times seen, failed every time)

    def record(self, name: str, arguments: Any, ok: bool, output: str = "", changed: bool = False) -> RepeatCheck:
        """Record one finished call; CHANGED says the call may have changed the workspace."""
        key = name + "\0" + json.dumps(arguments, sort_keys=True, default=str)
        if key == self._key:
            self._count += 1
            self._all_failed = self._all_failed and not ok
        else:
            self._key, self._count, self._all_failed = key, 1, not ok
        in_a_row = RepeatCheck(self._verdict(self._count, self._all_failed), self._count, self._all_failed)
        if changed:
            self._echoes.clear()
            return in_a_row
        # surrogatepass: output carries bytes that were not UTF-8 as lone surrogates
        echo_key = key + "\0" + hashlib.sha256(output.encode("utf-8", "surrogatepass")).hexdigest()
        seen, all_failed = self._echoes.get(echo_key, (0, True))
        count, failing = seen + 1, all_failed and not ok
        self._echoes[echo_key] = (count, failing)
        echo = RepeatCheck(self._verdict(count, failing), count, failing, in_a_row=False)
        if _SEVERITY[echo.verdict] > _SEVERITY[in_a_row.verdict]:
            return echo
        return in_a_row

    def _verdict(self, count: int, failing: bool) -> Verdict:
        # Repeating a successful call is wasteful but less alarming: allow one more before each step.
        slack = 0 if failing else 1
        if count >= self.give_up_after + slack:
            return "give_up"
        if count >= self.hint_after + slack:
            return "hint"
        return "none"

    def reset(self) -> None:
        self._key, self._count, self._all_failed = None, 0, True
        self._echoes.clear()
