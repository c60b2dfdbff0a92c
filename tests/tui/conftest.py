"""Fixtures for TUI tests: a repo, and an app wired to a scripted model on the local sandbox."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from tui_helpers import CALC, TESTS

from coder.agent import Agent
from coder.config import Config
from coder.sandboxes.local import LocalSandbox
from coder.testing import ScriptedModel
from coder.tui.app import CoderApp, TuiDeps
from coder.tui.bridge import AgentBridge


@pytest.fixture
def tui_repo(make_repo: Callable[..., Path]) -> Path:
    return make_repo({"calc.py": CALC, "tests/test_calc.py": TESTS})


@pytest.fixture
def make_app(tui_repo: Path, tmp_path: Path) -> Callable[..., CoderApp]:
    apps: list[CoderApp] = []

    def _make(steps: list[Any], **overrides: Any) -> CoderApp:
        model = ScriptedModel(steps)
        config = Config.model_validate({"agent": {"stream": True}, **overrides})
        agent = Agent(model, LocalSandbox(), config, trajectory_dir=tmp_path / "traj")
        bridge = AgentBridge(agent, tui_repo)
        app = CoderApp(TuiDeps(bridge, tui_repo, "scripted", "local", clock=lambda: 0.0))
        app.model = model  # type: ignore[attr-defined]
        apps.append(app)
        return app

    yield _make  # type: ignore[misc]
    for app in apps:
        app.bridge.close()
