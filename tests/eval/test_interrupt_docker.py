"""Ctrl-C in the middle of an eval on real Docker sandboxes: every container the eval opened is gone, finished runs
are kept, and the interrupted run is not recorded (a resume runs it again)."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from coder.config import SandboxConfig
from coder.eval.plan import EvalPlan
from coder.eval.runner import Evaluation
from coder.eval.sandboxing import DEFAULT_TOOLCHAIN, plan_sandboxes
from coder.models.base import ModelReply
from coder.sandboxes.docker_image import LABEL
from coder.testing import reply
from conftest import CSV, PAGINATOR, RecordingDisplay, scripted_factory, task

pytestmark = [pytest.mark.docker, pytest.mark.slow]


def test_ctrl_c_removes_every_container_and_keeps_finished_runs(make_plan: Callable[..., EvalPlan],
                                                                docker_images: dict[str, str]) -> None:
    import docker

    client = docker.from_env()
    sandbox, warning = plan_sandboxes(SandboxConfig(kind="docker", image=docker_images["plain"]), DEFAULT_TOOLCHAIN)
    assert warning is None
    blocked, release = threading.Event(), threading.Event()

    def hang(messages: Any) -> ModelReply:  # the second task's model never answers before Ctrl-C
        blocked.set()
        release.wait(60)
        return reply("too late")

    opened: list[str] = []
    plan = make_plan([task(CSV), task(PAGINATOR)], sandbox=sandbox,
                     model_factory=scripted_factory({PAGINATOR: lambda t, run: [hang]}))

    def ctrl_c_when_blocked() -> None:
        if blocked.wait(120):
            time.sleep(0.3)
            os.kill(os.getpid(), signal.SIGINT)  # a real SIGINT, as a terminal sends it

    trigger = threading.Thread(target=ctrl_c_when_blocked, daemon=True)
    trigger.start()
    display = RecordingDisplay()
    try:
        outcome = Evaluation(plan, display, on_open=lambda s: opened.append(s.container.id)).run()  # type: ignore[attr-defined]
    finally:
        release.set()
    assert outcome.interrupted and blocked.is_set()
    assert [(r.task, r.resolved, r.sandbox) for r in outcome.records] == [(CSV, True, "docker")]
    assert len(opened) == 3  # CSV's agent and grader, the paginator's agent
    alive = {c.id for c in client.containers.list(all=True, filters={"label": LABEL})}
    assert not alive & set(opened)
    assert any("interrupted: removed 1 sandbox(es)" in note for note in display.notes)
    assert display.stopped
    assert [line for line in (plan.out / "results.jsonl").read_text().splitlines() if PAGINATOR in line] == []
