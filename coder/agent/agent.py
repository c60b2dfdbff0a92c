"""Agent: the public entry point. It holds a model, a sandbox and a config, and opens sessions that run tasks."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from coder_tools.registry import all_tools

from ..config import Config
from ..events import Event
from ..models.base import Model
from ..sandboxes.base import Sandbox
from ..task import Task
from ..trajectory import default_trajectory_dir
from .approval import Approver
from .sandbox_check import CheckedSandbox
from .session import AgentSession


class Agent:
    """Runs tasks with MODEL in SANDBOX under CONFIG; surfaces consume the events.

    run() is one task from start to finish; session() is a longer conversation (follow-ups, undo, interrupt). The
    configured strategy (agent.strategy) does the work; every event also goes to a trajectory file in
    TRAJECTORY_DIR. APPROVER answers risky calls when the approval mode asks (None: nobody to ask, calls run)."""

    def __init__(self, model: Model, sandbox: Sandbox, config: Config, trajectory_dir: Path | None = None,
                 approver: Approver | None = None) -> None:
        self.model = model
        self.sandbox = sandbox
        self.config = config
        self.approver = approver
        self.trajectory_dir = trajectory_dir or Path(config.trajectory_dir or default_trajectory_dir())

    def run(self, task: Task) -> Iterator[Event]:
        """One task from start to finish; the last event is always RunFinished. Every event also goes to the trajectory."""
        session = self.session(task)
        try:
            yield from session.start()
        finally:
            session.close()

    def session(self, task: Task, checked: CheckedSandbox | None = None,
                approver: Approver | None = None) -> AgentSession:
        """A conversation about TASK in one sandbox: start(), then follow_up(), undo() and interrupt().

        CHECKED: a sandbox already opened on the task's repo and judged (sandbox_check.open_checked), which the
        session then owns. APPROVER replaces the agent's approver for this session (the TUI answers in its own UI)."""
        return AgentSession(task, model=self.model, sandbox=self.sandbox, config=self.config, tools=all_tools(),
                            trajectory_dir=self.trajectory_dir, approver=approver or self.approver, checked=checked)
