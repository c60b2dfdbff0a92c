"""Run an eval: configurations x tasks x runs, each in its own sandbox, in parallel worker threads (or on Ray), with
results appended as they finish, resumable, and Ctrl-C safe (every sandbox removed, finished results kept)."""

from __future__ import annotations

import queue
import signal
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from ..models.config import ModelConfig
from ..sandboxes.base import SandboxSession
from .endpoint import open_endpoint
from .guard import SessionGuard
from .harness import Harness
from .jobs import Interrupted, Job, execute
from .plan import EvalPlan, make_harness
from .progress import Display
from .results import ResultStore, RunRecord
from .tasks import EvalTask


@dataclass
class EvalOutcome:
    """What a run of the eval left: the records of the plan's configurations and tasks, and what it did."""

    records: list[RunRecord]
    interrupted: bool
    ran: int
    skipped: int


@contextmanager
def _no_sigint() -> Iterator[None]:
    """A second Ctrl-C must not cut the cleanup short."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


class Evaluation:
    """One eval run: plans the jobs, prepares checkouts and images, runs every model group, records results."""

    def __init__(self, plan: EvalPlan, display: Display,
                 on_open: Callable[[SandboxSession], None] | None = None) -> None:
        self.plan, self.display = plan, display
        self.store = ResultStore(plan.out)
        self.guard = SessionGuard(on_open)
        self.checkouts: dict[str, Path] = {}

    def pending(self) -> tuple[list[tuple[ModelConfig | None, list[Job]]], int]:
        """Jobs still to run, grouped by model (one endpoint each), and how many were skipped as finished."""
        plan = self.plan
        finished = set() if plan.redo else self.store.finished()
        groups: list[tuple[ModelConfig | None, list[Job]]] = []
        seen: set[tuple[str, str, int]] = set()
        skipped = 0
        for model in plan.models:
            jobs = []
            for config in plan.configs(model):
                for task in plan.tasks:
                    for run in range(plan.runs):
                        job = Job(config, task, run)
                        if job.key in seen:
                            continue
                        seen.add(job.key)
                        if job.key in finished:
                            skipped += 1
                        else:
                            jobs.append(job)
            groups.append((model, jobs))
        return groups, skipped

    def run(self) -> EvalOutcome:
        groups, skipped = self.pending()
        total = sum(len(jobs) for _, jobs in groups)
        ran, interrupted = 0, False
        self.display.start(total, skipped)
        try:
            with tempfile.TemporaryDirectory(prefix="coder-eval-") as work:
                self._prepare({j.task.id: j.task for _, jobs in groups for j in jobs}, Path(work))
                for model, jobs in groups:
                    if jobs:
                        ran += self._run_group(model, jobs)
        except KeyboardInterrupt:
            interrupted = True
            with _no_sigint():
                self.guard.cancel()
                self.display.note(f"interrupted: removed {self.guard.removed} sandbox(es); finished runs are kept in "
                                  f"{self.store.path} (run again to resume)")
        finally:
            self.display.stop()
        tasks = {t.id for t in self.plan.tasks}
        keys = {c.key for c in self.plan.all_configs()}
        records = [r for r in self.store.load().values() if r.config in keys and r.task in tasks and r.run < self.plan.runs]
        return EvalOutcome(sorted(records, key=lambda r: r.key), interrupted, ran, skipped)

    def _prepare(self, tasks: dict[str, EvalTask], work: Path) -> None:
        """A checkout per task (and its image or local setup), made once and shared read-only by its runs."""
        for task in tasks.values():
            self.display.note(f"preparing {task.id} ...")
            checkout = task.checkout(work / task.id / "repo")
            self.plan.sandbox.prepare(task, checkout, self.display.note)
            self.checkouts[task.id] = checkout

    def _run_group(self, model: ModelConfig | None, jobs: list[Job]) -> int:
        plan = self.plan
        needs_endpoint = any(j.config.harness == "mini-swe-agent" or
                             (j.config.harness == "coder" and plan.model_factory is None) for j in jobs)
        with ExitStack() as stack:
            endpoint = None
            if needs_endpoint:
                assert model is not None, "a model is needed unless a model_factory is given"
                endpoint = open_endpoint(model, stack, plan.workers, self.display.note)
            configs = {j.config.key: j.config for j in jobs}  # one harness per configuration (coder: per strategy)
            harnesses = {key: make_harness(config, plan, endpoint, plan.out / "trajectories" / config.slug)
                         for key, config in configs.items()}
            if plan.ray:  # the same harnesses, shipped to the workers once
                from .ray_backend import run_on_ray

                return run_on_ray(plan, jobs, harnesses, endpoint, self.checkouts, self.display, self.record)
            return self._run_threads(jobs, harnesses)

    def record(self, job: Job, record: RunRecord) -> None:
        self.store.append(record)
        self.display.finished(job, record)

    def _run_threads(self, jobs: list[Job], harnesses: dict[str, Harness]) -> int:
        todo: queue.Queue[Job] = queue.Queue()
        for job in jobs:
            todo.put(job)
        done: queue.Queue[tuple[Job, RunRecord | BaseException | None]] = queue.Queue()

        def work() -> None:
            while not self.guard.cancelled.is_set():
                try:
                    job = todo.get_nowait()
                except queue.Empty:
                    return
                self.display.started(job)
                try:
                    record = execute(job, harnesses[job.config.key], self.checkouts[job.task.id],
                                     self.plan.sandbox, self.guard, self.plan.grade_timeout,
                                     lambda step, job=job: self.display.step(job, step))  # type: ignore[misc]
                    done.put((job, record))
                except Interrupted:
                    done.put((job, None))
                except BaseException as exc:  # a bug: surface it in the main thread
                    done.put((job, exc))

        threads = [threading.Thread(target=work, name=f"eval-worker-{i}", daemon=True)
                   for i in range(max(1, min(self.plan.workers, len(jobs))))]
        for thread in threads:
            thread.start()
        recorded = 0
        try:
            for _ in range(len(jobs)):
                while True:
                    try:
                        job, item = done.get(timeout=0.25)
                        break
                    except queue.Empty:
                        if not any(t.is_alive() for t in threads) and done.empty():
                            return recorded
                if isinstance(item, RunRecord):
                    self.record(job, item)
                    recorded += 1
                elif isinstance(item, BaseException):
                    raise item
        except BaseException:
            with _no_sigint():  # workers still waiting on the model are daemons: they are left behind, sandbox-less
                self.guard.cancel()
                for thread in threads:
                    thread.join(timeout=1)
            raise
        return recorded
