"""The state of one run, shared by the session and every strategy, and the events built from it."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from coder_tools.risk import is_test_path

from ..config import LimitsConfig
from ..events import Event, LimitReached, RunFinished, RunStatus, TestPhase, TestsRan
from ..models.base import Usage
from ..patches import parse_patch
from ..sandboxes.base import SandboxSession
from .conversation import compare_outcomes


@dataclass
class RunState:
    """Mutable bookkeeping of one run (one session: its totals, baseline and approvals outlive each turn)."""

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


class Stop(Exception):
    """Ends a turn with a status (raised inside a strategy, caught where the turn is driven)."""

    def __init__(self, status: RunStatus, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


def check_cancel(state: RunState) -> None:
    """Stop the turn when the user interrupted it."""
    if state.cancel.is_set():
        raise Stop("interrupted", "interrupted by the user")


def tests_event(phase: TestPhase, data: dict[str, Any]) -> TestsRan:
    """The TestsRan event for a run_tests result's data."""
    return TestsRan(phase=phase, runner=str(data.get("runner", "")), command=str(data.get("command", "")),
                    passed=int(data.get("passed", 0)), failed=int(data.get("failed", 0)),
                    errors=int(data.get("errors", 0)), skipped=int(data.get("skipped", 0)),
                    outcomes=dict(data.get("tests", {})))


def run_final_tests(session: SandboxSession, state: RunState) -> Iterator[Event]:
    """Run the whole suite once more and record it as the turn's final result."""
    result = session.call("run_tests", {})
    state.final = {"ran": result.ok, **result.data}
    if result.ok:
        yield tests_event("final", result.data)


def verdict(state: RunState) -> tuple[RunStatus, str]:
    """The status and message of a submitted turn, from its final test run."""
    final = state.final or {}
    if not final.get("ran"):
        return "resolved", "submitted; no test runner was found, so the change is untested"
    failing = int(final.get("failed", 0)) + int(final.get("errors", 0))
    if failing:
        return "not_resolved", f"submitted with {failing} test(s) still failing"
    return "resolved", "submitted and all tests pass"


def wall_time_limit(state: RunState, limits: LimitsConfig) -> LimitReached | None:
    """The wall-time limit event once the turn's time is up."""
    elapsed, maximum = time.monotonic() - state.turn_started, limits.max_wall_seconds
    return LimitReached(limit="wall_time", value=round(elapsed, 1), maximum=maximum) if elapsed >= maximum else None


def turn_limit(state: RunState, limits: LimitsConfig) -> LimitReached | None:
    """The first limit this turn has reached, or None (limits apply to each turn; a one-shot run is one turn)."""
    steps, tokens = state.steps - state.turn_first_step, state.usage.total_tokens - state.turn_tokens
    if steps >= limits.max_steps:
        return LimitReached(limit="steps", value=steps, maximum=limits.max_steps)
    if tokens >= limits.max_tokens:
        return LimitReached(limit="tokens", value=tokens, maximum=limits.max_tokens)
    return wall_time_limit(state, limits)


def finished(state: RunState, patch: str) -> RunFinished:
    """The RunFinished event that ends a turn."""
    final = state.final or {}
    f2p, still, p2f = compare_outcomes(state.baseline, dict(final.get("tests", {})))
    status = state.status or "not_resolved"
    message = state.message
    if status == "resolved" and not patch.strip() and state.needs_change:
        status, message = "not_resolved", "submitted without changing anything"
    changed = tuple(sorted({f.path for f in parse_patch(patch) if is_test_path(f.path)})) if patch.strip() else ()
    return RunFinished(status=status, message=message, patch=patch, steps=state.steps,
                       elapsed=round(time.monotonic() - state.started, 3), prompt_tokens=state.usage.prompt_tokens,
                       completion_tokens=state.usage.completion_tokens, cached_tokens=state.usage.cached_tokens,
                       fail_to_pass=f2p, still_failing=still, pass_to_fail=p2f, summary=state.summary,
                       test_files=changed)
