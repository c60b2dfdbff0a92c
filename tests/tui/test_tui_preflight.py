"""Pilot: a task whose tests cannot run here shows the preflight message before any model call; `coder tui` checks at
launch, before it starts a model, and the first task runs in the sandbox it checked."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Static
from tui_helpers import FIX, TESTS, settle, type_text

from coder.agent import Agent, open_checked_or_refuse
from coder.config import Config
from coder.envs.preflight import PREFIX
from coder.errors import UsageError
from coder.sandboxes.local import LocalSandbox
from coder.task import Task
from coder.testing import ScriptedModel, call, reply
from coder.tui.app import CoderApp, TuiDeps
from coder.tui.bridge import AgentBridge

BROKEN = "import notinstalledpkg_zz\n\n\ndef add(a, b):\n    return a - b\n"


async def test_the_preflight_message_is_shown_and_the_model_is_never_called(make_repo: Callable[..., Path],
                                                                           tmp_path: Path) -> None:
    repo = make_repo({"calc.py": BROKEN, "tests/test_calc.py": TESTS})
    model = ScriptedModel([])  # raises if the agent ever asks it
    bridge = AgentBridge(Agent(model, LocalSandbox(), Config(), trajectory_dir=tmp_path / "traj"), repo)
    app = CoderApp(TuiDeps(bridge, repo, "scripted", "local", clock=lambda: 0.0))
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await type_text(pilot, "fix add")
            await settle(pilot)
            text = "\n".join(str(w.render()) for w in app.query(Static))
            assert PREFIX + "every test fails because the Python module 'notinstalledpkg_zz'" in text.replace("\n", " ")
            assert "The task did not run" in text
            assert any(PREFIX in n.message for n in app._notifications)
            assert not bridge.session.alive  # type: ignore[union-attr]  # the next message starts a fresh sandbox
            await type_text(pilot, "try again")
            await settle(pilot)
            assert text.count("The task did not run") < "\n".join(str(w.render()) for w in app.query(Static)).count(
                "The task did not run")
        assert model.calls == []
    finally:
        bridge.close()


class CountingSandbox(LocalSandbox):
    """The local sandbox, counting how often a sandbox is opened."""

    def __init__(self) -> None:
        super().__init__()
        self.opened = 0

    def open(self, repo: Path, options: Any) -> Any:
        self.opened += 1
        return super().open(repo, options)


async def test_the_sandbox_checked_at_launch_runs_the_first_task(make_repo: Callable[..., Path], tmp_path: Path) -> None:
    repo = make_repo({"calc.py": "def add(a, b):\n    return a - b\n", "tests/test_calc.py": TESTS})
    sandbox, config = CountingSandbox(), Config()
    checked = open_checked_or_refuse(sandbox, Task(repo=repo), config)
    model = ScriptedModel([reply("", FIX), reply("", call("submit", summary="fixed"))])
    bridge = AgentBridge(Agent(model, sandbox, config, trajectory_dir=tmp_path / "traj"), repo, None, checked)
    app = CoderApp(TuiDeps(bridge, repo, "scripted", "local", clock=lambda: 0.0))
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await type_text(pilot, "fix add")
            await settle(pilot)
            text = "\n".join(str(w.render()) for w in app.query(Static))
            assert "tests (baseline): 0 passed, 1 failed" in text and "resolved" in text
        assert sandbox.opened == 1  # the launch's sandbox and baseline, not a second one
    finally:
        bridge.close()


def test_coder_tui_refuses_to_start_a_model_when_the_tests_cannot_run(make_repo: Callable[..., Path],
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from coder import factories
    from coder.tui import launch

    repo = make_repo({"calc.py": BROKEN, "tests/test_calc.py": TESTS})

    class Tty:
        def isatty(self) -> bool:
            return True

    def no_model(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the model was started")

    monkeypatch.setattr(launch.sys, "stdin", Tty())
    monkeypatch.setattr(launch.sys, "stdout", Tty())
    monkeypatch.setattr(factories, "build_model", no_model)
    monkeypatch.setattr(factories, "choose_sandbox", lambda config, repo, progress: (LocalSandbox(), None))
    for name in [k for k in os.environ if k.startswith("CODER_")]:
        monkeypatch.delenv(name)
    args = argparse.Namespace(repo=repo, sandbox=None, approval=None, test_command=None, max_steps=None, strategy=None)
    with pytest.raises(UsageError) as raised:
        launch.run_tui(args, {})
    assert str(raised.value).startswith(PREFIX) and "notinstalledpkg_zz" in str(raised.value)
