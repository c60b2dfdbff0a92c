"""The same eval on Ray (optional extra `ray`): each job is a Ray task that unpacks the task's checkout, prepares its
sandbox on that node (its Docker engine, or DOCKER_HOST there), runs and grades it; the driver appends every record to
the one results.jsonl as it arrives. Ctrl-C cancels the Ray tasks gracefully, so each removes its own sandbox."""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from .endpoint import Endpoint
from .guard import SessionGuard
from .harness import Harness
from .jobs import Interrupted, Job, execute
from .plan import EvalPlan
from .progress import Display
from .results import RunRecord
from .tasks import pack, unpack


def available() -> bool:
    import importlib.util

    return importlib.util.find_spec("ray") is not None


def _job(job: Job, harness: Harness, plan: EvalPlan, archive: bytes) -> dict[str, Any] | None:
    """Runs on a Ray worker: returns the record as a dict, or None when cancelled."""
    guard = SessionGuard()
    with tempfile.TemporaryDirectory(prefix="coder-ray-") as tmp:
        checkout = unpack(archive, Path(tmp) / "repo")
        if plan.sandbox.kind == "docker":
            plan.sandbox.prepare(job.task, checkout)  # images are cached per engine: built once per node
        try:
            return execute(job, harness, checkout, plan.sandbox, guard, plan.grade_timeout).model_dump()
        except Interrupted:
            return None
        except KeyboardInterrupt:  # ray.cancel(): remove this job's sandboxes, then stop
            guard.cancel()
            return None


def _init(address: str | None, workers: int) -> bool:
    """Connect to (or start) Ray; True when this call started it (so it should shut it down)."""
    import ray

    if ray.is_initialized():
        return False
    if address in (None, "local"):
        ray.init(num_cpus=max(1, workers), include_dashboard=False, log_to_driver=False)
    else:
        ray.init(address=address, log_to_driver=False)
    return True


def run_on_ray(plan: EvalPlan, jobs: list[Job], harnesses: Mapping[str, Harness], endpoint: Endpoint | None,
               checkouts: Mapping[str, Path], display: Display, record: Callable[[Job, RunRecord], None]) -> int:
    """Submit JOBS (at most plan.workers in flight), each with its harness from HARNESSES (by configuration key, sent
    to Ray once) and its task's checkout from CHECKOUTS, and RECORD results as they come back; returns how many."""
    import ray

    if plan.ray_address not in (None, "local") and endpoint is not None and "127.0.0.1" in endpoint.config.base_url:
        display.note("warning: the model endpoint listens on 127.0.0.1 of this machine; Ray workers on "
                     "other machines cannot reach it (pass --base-url of a shared server)")
    started = _init(plan.ray_address, plan.workers)
    remote = ray.remote(num_cpus=1, max_retries=0)(_job)
    archives = {task_id: ray.put(pack(path)) for task_id, path in checkouts.items()}
    shipped = {name: ray.put(harness) for name, harness in harnesses.items()}
    waiting = list(jobs)
    running: dict[Any, Job] = {}
    recorded = 0
    try:
        while waiting or running:
            while waiting and len(running) < max(1, plan.workers):
                job = waiting.pop(0)
                running[remote.remote(job, shipped[job.config.key], plan, archives[job.task.id])] = job
                display.started(job)
            ready, _ = ray.wait(list(running), num_returns=1, timeout=0.5)
            for ref in ready:
                job = running.pop(ref)
                data = ray.get(ref)
                if data is not None:
                    record(job, RunRecord.model_validate(data))
                    recorded += 1
    except BaseException:
        for ref in running:
            ray.cancel(ref, force=False)
        if running:
            ray.wait(list(running), num_returns=len(running), timeout=30)
        raise
    finally:
        if started:
            ray.shutdown()
    return recorded
