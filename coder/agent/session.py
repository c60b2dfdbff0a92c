"""AgentSession: one conversation with the agent in one sandbox: the task, follow-ups, interrupt and per-step undo."""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from coder_tools.base import ToolSpec

from ..config import Config
from ..errors import CoderError
from ..events import Event, FollowUpSent, RunStarted, StepUndone
from ..models.base import Model, ModelError
from ..patch_check import UnsafePatch, check_patch
from ..sandboxes.base import Sandbox, SandboxError, SandboxSession
from ..sandboxes.rpc import WorkspaceError
from ..task import Task
from ..trajectory import TrajectoryWriter
from . import conversation as conv
from .approval import Approver
from .sandbox_check import CheckedSandbox, open_checked
from .state import RunState, Stop, finished, run_final_tests, tests_event
from .strategy import Strategy, StrategyContext, make_strategy


class SessionBusy(CoderError, RuntimeError):
    """A turn is still running; wait for it (or interrupt it) first."""


class AgentSession:
    """Drives the agent's steps for a task, then for each follow-up, keeping the sandbox and the conversation.

    start() and follow_up() yield events ending with RunFinished; undo() yields StepUndone. interrupt() may be called
    from any thread: the current turn stops at the next model token or before the next tool call, and the session
    stays usable. close() removes the sandbox."""

    def __init__(self, task: Task, *, model: Model, sandbox: Sandbox, config: Config, tools: dict[str, ToolSpec[Any]],
                 trajectory_dir: Path, approver: Approver | None = None, checked: CheckedSandbox | None = None) -> None:
        self.task = task
        self.model, self.sandbox, self.config, self.tools, self.approver = model, sandbox, config, tools, approver
        self._checked = checked  # a sandbox opened and judged before the model existed (coder fix)
        self.run_id = time.strftime("%Y%m%d-%H%M%S") + "-" + secrets.token_hex(3)
        self.state = RunState()
        self.strategy: Strategy | None = None  # made once the sandbox is open
        self.sandbox_session: SandboxSession | None = None
        self._stack = ExitStack()  # owns the sandbox
        self._busy = threading.Lock()
        self._notes: list[str] = []  # told to the model with the next follow-up
        self.trajectory_path = trajectory_dir / f"{self.run_id}.jsonl"
        self._writer = TrajectoryWriter(self.trajectory_path)

    @property
    def alive(self) -> bool:
        """The sandbox is open: follow-ups and undo are possible."""
        return self.sandbox_session is not None

    @property
    def busy(self) -> bool:
        return self._busy.locked()

    def interrupt(self) -> None:
        """Stop the current turn at the next safe point (thread-safe); the session is kept."""
        self.state.cancel.set()

    def start(self) -> Iterator[Event]:
        """Open the sandbox, run the baseline tests and work on the task until the turn ends.

        When the baseline shows the tests cannot run here (no runner, no tests, a missing package or program), the
        run ends with status "error" and a message that starts with envs.preflight.PREFIX, before any model call."""
        with self._turn():
            yield from self._record(self._start())

    def follow_up(self, text: str) -> Iterator[Event]:
        """Continue the conversation with the user's TEXT in the same sandbox."""
        if not self.alive:
            raise SandboxError("the session has no sandbox (it failed to start or was closed); start a new one")
        with self._turn():
            yield from self._record(self._follow_up(text))

    def undo(self) -> Iterator[Event]:
        """Put the workspace back to its state before the last step that changed it (shell side effects included)."""
        if not self.alive:
            raise SandboxError("the session has no sandbox; there is nothing to undo")
        with self._turn():
            yield from self._record(self._undo())

    def patch(self) -> str:
        """The workspace's changes since the start, as a git patch ('' when the sandbox is gone). The patch came out
        of the sandbox, so it passes the shared check first: UnsafePatch when it names paths outside the repo."""
        patch = self.sandbox_session.patch() if self.sandbox_session is not None else ""
        if patch.strip():
            check_patch(patch)
        return patch

    def close(self) -> None:
        """Remove the sandbox and close the trajectory; safe to call twice."""
        checked, self._checked = self._checked, None
        if checked is not None:
            checked.close()
        self._close_sandbox()
        self._writer.close()

    def _close_sandbox(self) -> None:
        self.sandbox_session = None
        self._stack.close()

    def __enter__(self) -> AgentSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _turn(self) -> _TurnGuard:
        return _TurnGuard(self._busy)

    def _record(self, events: Iterator[Event]) -> Iterator[Event]:
        for event in events:
            self._writer.event(event)
            yield event

    def _start(self) -> Iterator[Event]:
        cfg, state = self.config, self.state
        yield RunStarted(run_id=self.run_id, task=self.task.title, model=self.model.name, sandbox=self.sandbox.name,
                         repo=str(self.task.repo.resolve()), limits=cfg.limits.model_dump())
        state.new_turn()
        try:
            checked, self._checked = self._checked, None
            if checked is None:
                checked = open_checked(self.sandbox, self.task, cfg)
            self._stack.enter_context(checked)  # the session owns the sandbox from here on
            self.sandbox_session = checked.session
            baseline_line = None
            result = checked.baseline
            if result is not None and result.ok:
                state.baseline = dict(result.data.get("tests", {}))
                baseline_line = conv.outcome_line(result.data)
                yield tests_event("baseline", result.data)
            if checked.problem is not None:  # stop before the first model call, naming the fix
                self._close_sandbox()
                state.status, state.message = "error", checked.problem.message
                yield finished(state, "")
                return
            state.needs_change = bool(self.task.issue) or bool(conv.failing_ids(state.baseline))
            self.strategy = make_strategy(cfg.agent.strategy, StrategyContext(
                task=self.task, model=self.model, sandbox=checked.session, config=cfg, tools=self.tools,
                approver=self.approver, trajectory=self._writer))
            self.strategy.begin(baseline_line)
        except KeyboardInterrupt:
            self._close_sandbox()
            state.status, state.message = "interrupted", "interrupted by the user; nothing was applied"
            yield finished(state, "")
            return
        except SandboxError as exc:
            self._close_sandbox()
            state.status, state.message = "error", f"sandbox error: {exc}"
            yield finished(state, "")
            return
        yield from self._steps()

    def _follow_up(self, text: str) -> Iterator[Event]:
        yield FollowUpSent(text=text)
        notes, self._notes = self._notes, []
        assert self.strategy is not None
        self.strategy.follow_up("\n\n".join([*notes, text]))
        self.state.new_turn()
        yield from self._steps()

    def _steps(self) -> Iterator[Event]:
        """The agent's steps, the final tests when the model did not submit, and RunFinished with the patch."""
        state, session, strategy = self.state, self.sandbox_session, self.strategy
        assert session is not None and strategy is not None
        patch = ""
        try:
            try:
                yield from strategy.turn(state)
            except Stop as stop:
                state.status, state.message = stop.status, stop.message
            if state.final is None and state.status != "interrupted":
                yield from run_final_tests(session, state)
            patch = self.patch()
        except UnsafePatch as exc:  # never shown, never applied; the run says why in one line
            state.status, state.message = "error", exc.refusal()
        except KeyboardInterrupt:
            self._close_sandbox()
            state.status, state.message = "interrupted", "interrupted by the user; nothing was applied"
        except ModelError as exc:
            state.status, state.message = "error", f"model error: {exc}"
        except WorkspaceError as exc:  # the server is fine: the session stays open (undo, a follow-up)
            state.status, state.message = "error", f"the patch could not be taken from the sandbox: {exc}"
        except SandboxError as exc:
            self._close_sandbox()
            state.status, state.message = "error", f"sandbox error: {exc}"
        if state.status == "interrupted" and self.alive:
            state.message = "interrupted by the user; the session is kept (send a message to continue, or undo)"
        yield finished(state, patch)

    def _undo(self) -> Iterator[Event]:
        session, snapshots = self.sandbox_session, self.state.snapshots
        assert session is not None
        later = session.snapshot()
        for index in range(len(snapshots) - 1, -1, -1):
            step, tree, message_count = snapshots[index]
            if tree != later:
                undone = tuple(s for s, _, _ in snapshots[index:])
                del snapshots[index:]
                changed = tuple(session.restore(tree))
                first, last = undone[0], undone[-1]
                span = f"step {first}" if first == last else f"steps {first}-{last}"
                self._notes.append(f"(The user undid {span}: the workspace is back to its state before step {first}; "
                                   f"restored: {', '.join(changed) or 'nothing'}.)")
                yield StepUndone(steps=undone, changed=changed, message=f"undid {span}: {len(changed)} file(s) restored")
                return
            later = tree
        yield StepUndone(steps=(), changed=(), message="nothing to undo: no step changed the workspace")


class _TurnGuard:
    """Refuses a second turn while one is running."""

    def __init__(self, lock: threading.Lock) -> None:
        self._lock = lock

    def __enter__(self) -> None:
        if not self._lock.acquire(blocking=False):
            raise SessionBusy("the agent is still working; wait for it or interrupt it first")

    def __exit__(self, *exc: object) -> None:
        self._lock.release()
