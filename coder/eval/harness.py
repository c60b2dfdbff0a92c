"""Harnesses: what attempts a task in a sandbox and hands back a patch. coder's own agent, and `gold` (the reference
fix, to check the tasks and the grader); mini-swe-agent lives in mini_swe.py."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Protocol

from ..agent import Agent
from ..config import Config
from ..events import CandidateTried, Event, ModelReplied, RunFinished, ToolCallRejected
from ..models.base import Model
from ..patch_check import UnsafePatch
from ..sandboxes.base import Sandbox
from ..task import Task
from .endpoint import Endpoint
from .tasks import EvalTask

StepCallback = Callable[[int], None]
ModelFactory = Callable[[EvalTask, int], Model]


@dataclass(frozen=True)
class RunLimits:
    """Per-run limits every harness honours."""

    max_steps: int = 30
    max_seconds: float = 600.0
    max_tokens: int = 500_000
    bash_timeout: float = 120.0


@dataclass
class Attempt:
    """What a harness reports for one run, before grading."""

    status: str
    message: str = ""
    patch: str = ""
    steps: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0
    malformed_calls: int = 0
    trajectory: str | None = None
    error: str | None = None  # infrastructure failure: the run is retried on resume
    extra: dict[str, Any] = field(default_factory=dict)
    candidates: int = 0  # candidate repairs the guided strategy tried (0 for the tool loop and other harnesses)


class Harness(Protocol):
    name: str

    def attempt(self, task: EvalTask, checkout: Path, sandbox: Sandbox, run: int, on_step: StepCallback) -> Attempt:
        """Work on the task in a sandbox of CHECKOUT; must not raise for the agent's own failures."""
        ...


class EventTally:
    """Folds coder's event stream into an Attempt's counters: steps, malformed calls, candidates and the final event."""

    handled_types: ClassVar[frozenset[str]] = frozenset({"model_replied", "tool_call_rejected", "candidate_tried",
                                                         "run_finished"})

    def __init__(self, on_step: StepCallback) -> None:
        self.on_step = on_step
        self.malformed = 0
        self.candidates = 0
        self.final: RunFinished | None = None

    def __call__(self, event: Event) -> None:
        if isinstance(event, ModelReplied):
            self.on_step(event.step)
        elif isinstance(event, ToolCallRejected):
            self.malformed += 1
        elif isinstance(event, CandidateTried):
            self.candidates += 1
        elif isinstance(event, RunFinished):
            self.final = event


def run_config(config: Config, run: int) -> Config:
    """CONFIG for a task's RUN-th run (from 0): its sampled candidates get seeds of their own, so that `--runs N`
    samples N times rather than replaying one run N times."""
    if run == 0:
        return config
    guided = config.guided.model_copy(update={"seed": config.guided.seed + run})
    return config.model_copy(update={"guided": guided})


class CoderHarness:
    """coder's agent loop, unchanged, on the task's checkout."""

    name = "coder"

    def __init__(self, config: Config, endpoint: Endpoint | None, trajectory_dir: Path,
                 model_factory: ModelFactory | None = None) -> None:
        self.config, self.endpoint, self.trajectory_dir = config, endpoint, trajectory_dir
        self.model_factory = model_factory

    def attempt(self, task: EvalTask, checkout: Path, sandbox: Sandbox, run: int, on_step: StepCallback) -> Attempt:
        if self.model_factory is not None:
            model = self.model_factory(task, run)
        else:
            assert self.endpoint is not None
            model = self.endpoint.make_model()
        agent = Agent(model, sandbox, run_config(self.config, run), trajectory_dir=self.trajectory_dir)
        tally = EventTally(on_step)
        try:
            with agent.session(Task(repo=checkout, issue=task.issue, test_command=task.test_command,
                                         test_timeout=task.test_timeout)) as session:
                for event in session.start():
                    tally(event)
        finally:
            model.close()
        final = tally.final
        assert final is not None, "the agent always ends with run_finished"
        # A refused patch is the model's doing (an unresolved run), not an infrastructure failure to retry.
        refused = final.message.startswith(UnsafePatch.PREFIX)
        error = final.message if final.status in ("error", "interrupted") and not refused else None
        return Attempt(final.status, final.message, final.patch, final.steps, final.prompt_tokens,
                       final.completion_tokens, final.cached_tokens, tally.malformed,
                       str(session.trajectory_path), error, candidates=tally.candidates)


class GoldHarness:
    """Submits the task's reference fix (fix.patch, or a SWE-bench instance's `patch`): checks tasks and grader."""

    name = "gold"

    def attempt(self, task: EvalTask, checkout: Path, sandbox: Sandbox, run: int, on_step: StepCallback) -> Attempt:
        if not task.reference_patch.strip():
            return Attempt("not_resolved", "the task has no reference fix")
        return Attempt("submitted", "the reference fix", task.reference_patch)


def timed(fn: Callable[[], Attempt]) -> tuple[Attempt, float]:
    began = time.monotonic()
    result = fn()
    return result, round(time.monotonic() - began, 3)
