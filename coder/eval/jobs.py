"""One eval job: a configuration (harness + model) attempts one task once in its own sandbox, then a fresh sandbox
grades the patch. Used the same way by the thread pool and by Ray workers."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from ..sandboxes.base import SandboxError
from .grade import GradingError, grade
from .guard import SessionGuard
from .harness import Attempt, Harness, StepCallback
from .results import GradeResult, RunRecord
from .sandboxing import SandboxPlan
from .tasks import EvalTask


class Interrupted(Exception):
    """The eval was interrupted while this job ran; it is not recorded (a resume runs it again)."""


@dataclass(frozen=True)
class EvalConfig:
    """A column of the results table: which harness, with which model, and for coder the strategy `--strategy` chose
    (None: the configuration's agent.strategy, not named in the label)."""

    harness: str
    model: str
    strategy: str | None = None

    @property
    def key(self) -> str:
        """The label in tables and results.jsonl: harness/model, or harness[strategy]/model (coder[guided]/qwen...)."""
        return f"{self.harness}[{self.strategy}]/{self.model}" if self.strategy else f"{self.harness}/{self.model}"

    @property
    def slug(self) -> str:
        return re.sub(r"[^A-Za-z0-9._-]+", "_", self.key)


@dataclass(frozen=True)
class Job:
    config: EvalConfig
    task: EvalTask
    run: int

    @property
    def key(self) -> tuple[str, str, int]:
        return (self.config.key, self.task.id, self.run)


def execute(job: Job, harness: Harness, checkout: Path, plan: SandboxPlan, guard: SessionGuard,
            grade_timeout: float, on_step: StepCallback = lambda _: None) -> RunRecord:
    """Attempt, then grade in a fresh sandbox; Interrupted when the guard was cancelled meanwhile."""
    began = time.monotonic()
    sandbox = guard.wrap(plan.sandbox(job.task.id))
    try:
        attempt = harness.attempt(job.task, checkout, sandbox, job.run, on_step)
    except Exception as exc:  # one broken run must not end the eval: it is recorded, and retried on resume
        if guard.cancelled.is_set():
            raise Interrupted(job.key) from exc
        attempt = Attempt("error", error=f"{type(exc).__name__}: {' '.join(str(exc).split())[:400]}")
    wall = round(time.monotonic() - began, 3)
    if guard.cancelled.is_set():
        raise Interrupted(job.key)
    graded = GradeResult()
    error = attempt.error
    if error is None:
        try:
            graded = grade(job.task, checkout, attempt.patch, guard.wrap(plan.sandbox(job.task.id)), grade_timeout)
        except (GradingError, SandboxError) as exc:
            if guard.cancelled.is_set():
                raise Interrupted(job.key) from exc
            error = f"grading failed: {exc}"
    return RunRecord(
        config=job.config.key, harness=job.config.harness, model=job.config.model, strategy=job.config.strategy or "",
        task=job.task.id, run=job.run,
        resolved=graded.resolved, status=attempt.status, message=attempt.message[:500], steps=attempt.steps,
        prompt_tokens=attempt.prompt_tokens, completion_tokens=attempt.completion_tokens,
        cached_tokens=attempt.cached_tokens, wall_seconds=wall, malformed_calls=attempt.malformed_calls,
        candidates=attempt.candidates, patch=attempt.patch, error=error, sandbox=plan.kind, grade=graded,
        trajectory=attempt.trajectory, finished_at=datetime.now(UTC).isoformat(timespec="seconds"))
