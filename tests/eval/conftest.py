"""Eval test helpers: scripted models replaying tasks' solution.json, the fake OpenAI server, plans on real tasks."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

_TESTS = Path(__file__).resolve().parents[1]
if str(_TESTS / "models") not in sys.path:  # the scripted OpenAI-compatible HTTP server
    sys.path.insert(0, str(_TESTS / "models"))

from coder.config import Config  # noqa: E402
from coder.eval.harness import RunLimits  # noqa: E402
from coder.eval.plan import EvalPlan  # noqa: E402
from coder.eval.sandboxing import SandboxPlan  # noqa: E402
from coder.eval.tasks import EvalTask, from_task_dir  # noqa: E402
from coder.eval.taskspec import load_solution  # noqa: E402
from coder.models.base import ModelReply  # noqa: E402
from coder.testing import ScriptedModel, call, reply  # noqa: E402

TASKS_DIR = _TESTS.parent / "tasks"
PAGINATOR = "paginator-drops-partial-page"
CSV = "csv-export-drops-last-row"
SLUGIFY = "js-slugify-accents"
PAGER_FILE = "pager/paginator.py"
BUGGY_LINE = "        return self.count // self.per_page\n"


def task(name: str) -> EvalTask:
    return from_task_dir(TASKS_DIR / name)


def solution_replies(task_dir: Path) -> list[ModelReply]:
    """solution.json as scripted replies: the plan with the first call, then one call per reply."""
    solution = load_solution(task_dir)
    calls = [call(c["name"], f"call_{i}", **c["arguments"]) for i, c in enumerate(solution.calls)]
    plan = "\n".join(f"{n}. {step}" for n, step in enumerate(solution.plan, 1))
    return [reply(plan, calls[0])] + [reply("", c) for c in calls[1:]]


def edit_replies(new_line: str) -> list[ModelReply]:
    """The paginator edited to NEW_LINE, then submit (twice: the agent pushes back once when tests still fail)."""
    edit = call("edit_file", "c1", path=PAGER_FILE, command="replace", old=BUGGY_LINE, new=new_line)
    return [reply("1. Fix num_pages", edit), reply("", call("submit", "c2", summary="done")),
            reply("", call("submit", "c3", summary="done"))]


def solution_bodies(task_id: str) -> list[Any]:
    """The task's solution.json as chat.completion bodies with native tool calls, for the fake OpenAI server."""
    from fake_openai_server import Scripted, completion, native_call

    solution = load_solution(TASKS_DIR / task_id)
    bodies = []
    for i, c in enumerate(solution.calls):
        text = "\n".join(f"{n}. {s}" for n, s in enumerate(solution.plan, 1)) if i == 0 else ""
        bodies.append(Scripted("json", completion(text, [native_call(f"c{i}", c["name"], c["arguments"])],
                                                  {"prompt_tokens": 50, "completion_tokens": 5, "total_tokens": 55},
                                                  finish_reason="tool_calls")))
    return bodies


Scripts = dict[str, Callable[[EvalTask, int], list[ModelReply]]]


def scripted_factory(scripts: Scripts | None = None) -> Callable[[EvalTask, int], ScriptedModel]:
    """A model factory: each task's own solution.json unless SCRIPTS names the task; the models are kept for checks."""
    made: list[ScriptedModel] = []

    def factory(t: EvalTask, run: int) -> ScriptedModel:
        steps = scripts[t.id](t, run) if scripts and t.id in scripts else solution_replies(Path(t.task_dir or ""))
        model = ScriptedModel(list(steps))
        made.append(model)
        return model

    factory.made = made  # type: ignore[attr-defined]
    return factory


@pytest.fixture
def make_plan(tmp_path: Path) -> Callable[..., EvalPlan]:
    """An EvalPlan on real tasks with the local sandbox and a scripted model; keywords override fields."""

    def make(tasks: list[EvalTask], **fields: Any) -> EvalPlan:
        config = Config().model_copy(update={"trajectory_dir": str(tmp_path / "traj")})
        config.agent.stream = config.agent.snapshots = False
        values: dict[str, Any] = {"tasks": tasks, "out": tmp_path / "out", "config": config,
                                  "sandbox": SandboxPlan("local"), "model_factory": scripted_factory(),
                                  "limits": RunLimits(max_steps=12, max_seconds=120, bash_timeout=60),
                                  "grade_timeout": 60}
        values.update(fields)
        return EvalPlan(**values)

    return make


class RecordingDisplay:
    """A Display that keeps everything it is told (and checks the protocol is followed)."""

    def __init__(self) -> None:
        self.total = -1
        self.skipped = -1
        self.notes: list[str] = []
        self.started_jobs: list[Any] = []
        self.steps: list[tuple[Any, int]] = []
        self.finished_records: list[Any] = []
        self.stopped = False

    def start(self, total: int, skipped: int) -> None:
        self.total, self.skipped = total, skipped

    def note(self, text: str) -> None:
        self.notes.append(text)

    def started(self, job: Any) -> None:
        self.started_jobs.append(job)

    def step(self, job: Any, step: int) -> None:
        self.steps.append((job.key, step))

    def finished(self, job: Any, record: Any) -> None:
        self.finished_records.append(record)

    def stop(self) -> None:
        self.stopped = True


@pytest.fixture
def display() -> RecordingDisplay:
    return RecordingDisplay()
