"""The event stream: frozen dataclasses that every surface (CLI, TUI, GitHub, eval, trajectory) consumes.

Each event has a snake_case ``type`` literal, in the past tense for facts. ``to_dict``/``event_from_dict``
round-trip events through JSON for trajectories and ``--json`` output.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, Union, get_args

RunStatus = Literal["resolved", "not_resolved", "limit_reached", "stuck", "error", "interrupted"]
Decision = Literal["yes", "no", "always"]
TestPhase = Literal["baseline", "step", "final"]


@dataclass(frozen=True, kw_only=True)
class RunStarted:
    type: Literal["run_started"] = field(default="run_started", init=False)
    run_id: str
    task: str
    model: str
    sandbox: str
    repo: str
    limits: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class PlanUpdated:
    type: Literal["plan_updated"] = field(default="plan_updated", init=False)
    steps: tuple[str, ...]
    revision: int


@dataclass(frozen=True, kw_only=True)
class TextStreamed:
    """A piece of model text as it arrives (only when streaming)."""

    type: Literal["text_streamed"] = field(default="text_streamed", init=False)
    step: int
    text: str


@dataclass(frozen=True, kw_only=True)
class ModelReplied:
    type: Literal["model_replied"] = field(default="model_replied", init=False)
    step: int
    text: str
    tool_calls: tuple[dict[str, Any], ...]
    prompt_tokens: int
    completion_tokens: int
    cached_tokens: int
    seconds: float


@dataclass(frozen=True, kw_only=True)
class ToolCallRejected:
    """A call the model made that could not be run (malformed, unknown tool, no call at all)."""

    type: Literal["tool_call_rejected"] = field(default="tool_call_rejected", init=False)
    step: int
    name: str
    reason: str


@dataclass(frozen=True, kw_only=True)
class ToolStarted:
    type: Literal["tool_started"] = field(default="tool_started", init=False)
    step: int
    call_id: str
    name: str
    arguments: dict[str, Any]


@dataclass(frozen=True, kw_only=True)
class ToolFinished:
    type: Literal["tool_finished"] = field(default="tool_finished", init=False)
    step: int
    call_id: str
    name: str
    ok: bool
    output: str
    seconds: float


@dataclass(frozen=True, kw_only=True)
class FileEdited:
    type: Literal["file_edited"] = field(default="file_edited", init=False)
    step: int
    path: str
    diff: str


@dataclass(frozen=True, kw_only=True)
class TestsRan:
    __test__: ClassVar[bool] = False  # not a pytest test class
    type: Literal["tests_ran"] = field(default="tests_ran", init=False)
    phase: TestPhase
    runner: str
    command: str
    passed: int
    failed: int
    errors: int
    skipped: int
    outcomes: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class HintGiven:
    """The agent noticed a repeated action and told the model to change course."""

    type: Literal["hint_given"] = field(default="hint_given", init=False)
    step: int
    reason: str


@dataclass(frozen=True, kw_only=True)
class LimitReached:
    type: Literal["limit_reached"] = field(default="limit_reached", init=False)
    limit: Literal["steps", "tokens", "wall_time", "context"]
    value: float
    maximum: float


@dataclass(frozen=True, kw_only=True)
class RunFinished:
    type: Literal["run_finished"] = field(default="run_finished", init=False)
    status: RunStatus
    message: str
    patch: str
    steps: int
    elapsed: float
    prompt_tokens: int
    completion_tokens: int
    cached_tokens: int
    fail_to_pass: tuple[str, ...] = ()
    still_failing: tuple[str, ...] = ()
    pass_to_fail: tuple[str, ...] = ()
    summary: str = ""
    test_files: tuple[str, ...] = ()  # test files and test data the patch changes (the tests judge the fix)


@dataclass(frozen=True, kw_only=True)
class FollowUpSent:
    """The user continued the session with another message (same sandbox, same conversation)."""

    type: Literal["follow_up_sent"] = field(default="follow_up_sent", init=False)
    text: str


@dataclass(frozen=True, kw_only=True)
class ApprovalRequested:
    """A risky call waits for the user's yes, no or always (approval mode permitting)."""

    type: Literal["approval_requested"] = field(default="approval_requested", init=False)
    step: int
    call_id: str
    name: str
    arguments: dict[str, Any]
    reason: str


@dataclass(frozen=True, kw_only=True)
class ApprovalDecided:
    type: Literal["approval_decided"] = field(default="approval_decided", init=False)
    step: int
    call_id: str
    name: str
    decision: Decision


@dataclass(frozen=True, kw_only=True)
class StepUndone:
    """The workspace went back to its state before STEPS (files the shell made or changed included)."""

    type: Literal["step_undone"] = field(default="step_undone", init=False)
    steps: tuple[int, ...]
    changed: tuple[str, ...]
    message: str


@dataclass(frozen=True, kw_only=True)
class CandidateTried:
    """The guided strategy checked one candidate repair against the tests.

    verdict: accepted (turns failing tests to pass, breaks none), rejected (fixes none, or breaks a passing test),
    discarded (the reply did not parse, named nothing in the file, or changed a test file), duplicate (the same code as
    an earlier candidate: not run again)."""

    type: Literal["candidate_tried"] = field(default="candidate_tried", init=False)
    step: int
    index: int  # 1-based, across rounds
    total: int  # the candidate budget
    verdict: Literal["accepted", "rejected", "discarded", "duplicate"]
    fixed: int = 0  # failing tests it turns to pass
    failing: int = 0  # failing tests before it
    broken: int = 0  # passing tests it breaks
    diff_lines: int = 0
    functions: tuple[str, ...] = ()  # what it rewrote, as path:name
    reason: str = ""


Event = Union[
    RunStarted,
    PlanUpdated,
    TextStreamed,
    ModelReplied,
    ToolCallRejected,
    ToolStarted,
    ToolFinished,
    FileEdited,
    TestsRan,
    HintGiven,
    LimitReached,
    RunFinished,
    FollowUpSent,
    ApprovalRequested,
    ApprovalDecided,
    StepUndone,
    CandidateTried,
]

EVENT_TYPES: dict[str, type[Event]] = {cls.__dataclass_fields__["type"].default: cls for cls in get_args(Event)}
"""Every event class by its ``type``, derived from the Event union (the one place the list is written)."""


def to_dict(event: Event) -> dict[str, Any]:
    """JSON-ready dict with the type first."""
    return {"type": event.type, **dataclasses.asdict(event)}


def event_from_dict(data: dict[str, Any]) -> Event:
    """Rebuild an event from to_dict output (tuples restored from lists)."""
    cls = EVENT_TYPES.get(str(data.get("type")))
    if cls is None:
        raise ValueError(f"unknown event type {data.get('type')!r}")
    kwargs: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        if not f.init or f.name not in data:
            continue
        value = data[f.name]
        if isinstance(value, list):
            value = tuple(value)
        kwargs[f.name] = value
    return cls(**kwargs)
