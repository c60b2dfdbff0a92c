"""Pilot: a task whose tests cannot run here shows the preflight message before any model call."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from coder.agent import Agent
from coder.config import Config
from coder.envs.preflight import PREFIX
from coder.sandboxes.local import LocalSandbox
from coder.testing import ScriptedModel
from coder.tui.app import CoderApp, TuiDeps
from coder.tui.bridge import AgentBridge
from textual.widgets import Static

from tui_helpers import TESTS, settle, type_text

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
