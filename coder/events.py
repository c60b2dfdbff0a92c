"""The event stream: frozen dataclasses that every surface (CLI, TUI, GitHub, eval, trajectory) consumes.

Each event has a snake_case ``type`` literal, in the past tense for facts. ``to_dict``/``event_from_dict``
round-trip events through JSON for trajectories and ``--json`` output.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, Union

RunStatus = Literal["resolved", "not_resolved", "limit_reached", "stuck", "error", "interrupted"]
Decision = Literal["yes", "no", "always"]
TestPhase = Literal["baseline", "step", "final"]


@dataclass(frozen=True)
class RunStarted:
    type: ClassVar[str] = "run_started"
    run_id: str
    task: str
    model: str
    sandbox: str
    repo: str
    limits: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PlanUpdated:
    type: ClassVar[str] = "plan_updated"
    steps: tuple[str, ...]
    revision: int


@dataclass(frozen=True)
class TextStreamed:
    """A piece of model text as it arrives (only when streaming)."""

    type: ClassVar[str] = "text_streamed"
    step: int
    text: str


@dataclass(frozen=True)
class ModelReplied:
    type: ClassVar[str] = "model_replied"
    step: int
    text: str
    tool_calls: tuple[dict[str, Any], ...]
    prompt_tokens: int
    completion_tokens: int
    cached_tokens: int
    seconds: float


@dataclass(frozen=True)
class ToolCallRejected:
    """A call the model made that could not be run (malformed, unknown tool, no call at all)."""

    type: ClassVar[str] = "tool_call_rejected"
    step: int
    name: str
    reason: str


@dataclass(frozen=True)
class ToolStarted:
    type: ClassVar[str] = "tool_started"
    step: int
    call_id: str
    name: str
    arguments: dict[str, Any]


@dataclass(frozen=True)
class ToolFinished:
    type: ClassVar[str] = "tool_finished"
    step: int
    call_id: str
    name: str
    ok: bool
    output: str
    seconds: float


@dataclass(frozen=True)
class FileEdited:
    type: ClassVar[str] = "file_edited"
    step: int
    path: str
    diff: str


@dataclass(frozen=True)
class TestsRan:
    __test__: ClassVar[bool] = False  # not a pytest test class
    type: ClassVar[str] = "tests_ran"
    phase: TestPhase
    runner: str
    command: str
    passed: int
    failed: int
    errors: int
    skipped: int
    outcomes: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class HintGiven:
    """The agent noticed a repeated action and told the model to change course."""

    type: ClassVar[str] = "hint_given"
    step: int
    reason: str


@dataclass(frozen=True)
class LimitReached:
    type: ClassVar[str] = "limit_reached"
    limit: Literal["steps", "tokens", "wall_time", "context"]
    value: float
    maximum: float


@dataclass(frozen=True)
class RunFinished:
    type: ClassVar[str] = "run_finished"
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


@dataclass(frozen=True)
class FollowUpSent:
    """The user continued the session with another message (same sandbox, same conversation)."""

    type: ClassVar[str] = "follow_up_sent"
    text: str


@dataclass(frozen=True)
class ApprovalRequested:
    """A risky call waits for the user's yes, no or always (approval mode permitting)."""

    type: ClassVar[str] = "approval_requested"
    step: int
    call_id: str
    name: str
    arguments: dict[str, Any]
    reason: str


@dataclass(frozen=True)
class ApprovalDecided:
    type: ClassVar[str] = "approval_decided"
    step: int
    call_id: str
    name: str
    decision: Decision


@dataclass(frozen=True)
class StepUndone:
    """The workspace went back to its state before STEPS (files the shell made or changed included)."""

    type: ClassVar[str] = "step_undone"
    steps: tuple[int, ...]
    changed: tuple[str, ...]
    message: str


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
]

EVENT_TYPES: dict[str, type[Any]] = {
    cls.type: cls
    for cls in (
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
    )
}


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
        if f.name not in data:
            continue
        value = data[f.name]
        if isinstance(value, list):
            value = tuple(value)
        kwargs[f.name] = value
    return cls(**kwargs)  # type: ignore[no-any-return]
