"""The TUI's link to the agent: runs session turns in a worker thread and hands their events over in batches."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Union

from ..agent import Agent, AgentSession, CheckedSandbox, SessionBusy
from ..events import ApprovalRequested, Decision, Event, TextStreamed
from ..task import Task


@dataclass(frozen=True)
class PatchChanged:
    """The workspace patch after a turn or an undo."""

    patch: str


@dataclass(frozen=True)
class Notice:
    """Something the user should see that is not an agent event (e.g. the sandbox could not be reached)."""

    text: str
    severity: str = "information"


@dataclass(frozen=True)
class Idle:
    """The worker finished; the agent waits for the user."""


Item = Union[Event, PatchChanged, Notice, Idle]


class AgentBridge:
    """Owns the AgentSession; send()/undo() start work in a thread, drain() returns what happened since last time.

    The first message starts a session on the task; later ones are follow-ups in the same sandbox. Approval requests
    block the worker until decide() (or interrupt(), which declines) is called from the UI."""

    def __init__(self, agent: Agent, repo: Path, test_command: str | None = None,
                 checked: CheckedSandbox | None = None) -> None:
        self.agent = agent
        self.repo = repo
        self.test_command = test_command
        self.session: AgentSession | None = None
        self._checked = checked  # opened and judged at launch: the first task runs in it
        self._items: queue.Queue[Item] = queue.Queue()
        self._decisions: queue.Queue[Decision] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._cancel = threading.Event()

    @property
    def busy(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def send(self, text: str) -> None:
        """Start the task (first message) or follow up on it."""

        def events() -> Iterator[Event]:
            if self.session is not None and self.session.alive:
                return self.session.follow_up(text)
            if self.session is not None:
                self.session.close()
            checked, self._checked = self._checked, None
            task = Task(repo=self.repo, issue=text, test_command=self.test_command)
            self.session = self.agent.session(task, checked, approver=self._approve)
            return self.session.start()

        self._start(events)

    def undo(self) -> None:
        """Put the workspace back to its state before the last step that changed it."""
        if self.session is None or not self.session.alive:
            self._items.put(Notice("nothing to undo yet", "warning"))
            return
        session = self.session
        self._start(session.undo)

    def interrupt(self) -> None:
        """Stop the current turn at its next safe point; a pending approval is declined."""
        self._cancel.set()
        if self.session is not None:
            self.session.interrupt()

    def decide(self, decision: Decision) -> None:
        """Answer the approval request the worker is waiting on."""
        self._decisions.put(decision)

    def drain(self) -> list[Item]:
        """Everything queued since the last call; runs of streamed text are merged into one event per step."""
        items: list[Item] = []
        while True:
            try:
                item = self._items.get_nowait()
            except queue.Empty:
                return items
            last = items[-1] if items else None
            if isinstance(item, TextStreamed) and isinstance(last, TextStreamed) and last.step == item.step:
                items[-1] = TextStreamed(step=item.step, text=last.text + item.text)
            else:
                items.append(item)

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until the worker is done (for shutdown and tests)."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
        return not self.busy

    def close(self, timeout: float = 30.0) -> None:
        """Interrupt any work, wait for it, and remove the sandbox."""
        self.interrupt()
        self.wait_idle(timeout)
        checked, self._checked = self._checked, None
        if checked is not None:
            checked.close()
        if self.session is not None:
            self.session.close()
            self.session = None

    def _start(self, make_events: Callable[[], Iterator[Event]]) -> None:
        if self.busy:
            raise SessionBusy("the agent is still working; wait for it or press Ctrl-C to interrupt it")
        self._cancel.clear()
        while not self._decisions.empty():
            self._decisions.get_nowait()
        self._thread = threading.Thread(target=self._work, args=(make_events,), name="coder-agent", daemon=True)
        self._thread.start()

    def _work(self, make_events: Callable[[], Iterator[Event]]) -> None:
        try:
            for event in make_events():
                self._items.put(event)
            if self.session is not None and self.session.alive:
                self._items.put(PatchChanged(self.session.patch()))
        except Exception as exc:  # an infrastructure failure must reach the screen, not kill the thread silently
            self._items.put(Notice(f"{type(exc).__name__}: {exc}", "error"))
        finally:
            self._items.put(Idle())

    def _approve(self, request: ApprovalRequested) -> Decision:
        while True:
            try:
                return self._decisions.get(timeout=0.1)
            except queue.Empty:
                if self._cancel.is_set():
                    return "no"
