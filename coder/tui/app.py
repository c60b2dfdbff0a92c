"""CoderApp: the live session screen, a thin viewer and approver over the agent's event stream."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Footer, Input

from ..agent import SessionBusy
from ..envs.preflight import is_preflight_message
from ..events import (
    ApprovalDecided,
    ApprovalRequested,
    CandidateTried,
    FileEdited,
    HintGiven,
    LimitReached,
    ModelReplied,
    PlanUpdated,
    RunFinished,
    RunStarted,
    StepUndone,
    TestsRan,
    TextStreamed,
    ToolCallRejected,
    ToolFinished,
    ToolStarted,
)
from ..render import CANDIDATE_COLORS, candidate_summary
from ..visible import visible, visible_line
from .bridge import AgentBridge, Idle, Item, Notice, PatchChanged
from .diff_review import DiffReviewScreen
from .literal import literal, literal_line
from .modals import ApprovalScreen, HelpScreen
from .widgets import ModelText, PlanPanel, Status, StatusBar, TaskInput, ToolEntry, Transcript

DRAIN_SECONDS = 0.05  # how often queued events reach the screen: bursts of tokens become one update


@dataclass
class TuiDeps:
    """What the app needs, built by the caller (CLI or tests)."""

    bridge: AgentBridge
    repo: Path
    model_name: str
    sandbox_name: str
    clock: Callable[[], float] = field(default=time.monotonic)
    notices: list[str] = field(default_factory=list)


class CoderApp(App[None]):
    """Task box, transcript, plan and status; diff review, approval and help as screens over it."""

    CSS_PATH = "app.tcss"
    TITLE = "coder"
    BINDINGS = [
        Binding("ctrl+c", "interrupt", "Interrupt", priority=True),
        Binding("ctrl+z", "undo", "Undo step", priority=True),
        Binding("ctrl+r", "review", "Review diff", priority=True),
        Binding("f1", "help", "Help"),
        Binding("question_mark", "help", "Help", show=False),
        Binding("ctrl+q", "quit", "Quit", priority=True),
    ]
    # follow_up_sent is not shown again: the message was shown when it was sent.
    handled_types: ClassVar[frozenset[str]] = frozenset({
        "run_started", "plan_updated", "text_streamed", "model_replied", "tool_call_rejected", "tool_started",
        "tool_finished", "file_edited", "tests_ran", "hint_given", "limit_reached", "run_finished",
        "approval_requested", "approval_decided", "step_undone", "candidate_tried"})

    def __init__(self, deps: TuiDeps) -> None:
        super().__init__()
        self.deps = deps
        self.bridge = deps.bridge
        self.patch = ""
        self.task_title = ""
        self.status = Status(deps.model_name, deps.sandbox_name)
        self._turn_started: float | None = None
        self._texts: dict[int, ModelText] = {}
        self._tools: dict[str, ToolEntry] = {}
        self._handlers: dict[str, Callable[[Any], None]] = {
            "run_started": self._run_started, "plan_updated": self._plan_updated,
            "text_streamed": self._text_streamed, "model_replied": self._model_replied,
            "tool_call_rejected": self._tool_call_rejected, "tool_started": self._tool_started,
            "tool_finished": self._tool_finished, "file_edited": self._file_edited, "tests_ran": self._tests_ran,
            "hint_given": self._hint_given, "limit_reached": self._limit_reached, "run_finished": self._run_finished,
            "approval_requested": self._approval_requested, "approval_decided": self._approval_decided,
            "step_undone": self._step_undone, "candidate_tried": self._candidate_tried,
        }

    # ------------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        with Horizontal(id="main"):
            yield Transcript(id="transcript")
            yield PlanPanel("[b]Plan[/]\n[dim](no plan yet)[/]", id="plan")
        with Vertical(id="bottom"):
            yield TaskInput(placeholder="Describe the bug or task, then Enter   (? help)", id="task")
            yield StatusBar(id="status")
            yield Footer()

    def on_mount(self) -> None:
        self.query_one(Transcript).add_line(
            f"[dim]Working on a sandboxed copy of {literal_line(str(self.deps.repo))}. Nothing touches your files "
            "until you accept hunks in the diff review.[/]")
        for notice in self.deps.notices:
            self.query_one(Transcript).add_line(f"[yellow]warning: {literal(notice)}[/]")
        self.query_one(TaskInput).focus()
        self._show_status()
        self.set_interval(DRAIN_SECONDS, self._drain)
        self.set_interval(1.0, self._tick)

    # ------------------------------------------------------------------ user actions

    def on_input_submitted(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        if not text:
            return
        command = text.lower().lstrip("/")
        if command in ("undo", "diff", "review", "help", "?", "quit", "exit"):
            event.input.clear()
            {"undo": self.action_undo, "diff": self.action_review, "review": self.action_review,
             "help": self.action_help, "?": self.action_help}.get(command, self.exit)()
            return
        try:
            self.bridge.send(text)
        except SessionBusy as exc:
            self.notify(str(exc), severity="warning")
            return
        event.input.clear()
        if not self.task_title:
            self.task_title = text.splitlines()[0][:100]
        self.query_one(Transcript).add_line(f"[b]›[/] {literal(text)}", classes="user")
        self._working()

    def action_interrupt(self) -> None:
        if isinstance(self.screen, ApprovalScreen):
            self.screen.dismiss("no")
        if self.bridge.busy:
            self.bridge.interrupt()
            self.status.state = "interrupting…"
            self._show_status()
            self.notify("Interrupting after the current step; the session is kept.")
        else:
            self.notify("Nothing is running. Ctrl+Q quits.")

    def action_undo(self) -> None:
        try:
            self.bridge.undo()
        except SessionBusy as exc:
            self.notify(str(exc), severity="warning")
            return
        if self.bridge.busy:
            self._working("undoing")

    def action_review(self) -> None:
        if self.bridge.busy:
            self.notify("The agent is still working; review when it is done (or Ctrl+C).", severity="warning")
            return
        self.push_screen(DiffReviewScreen(self.patch, self.deps.repo, self.task_title or "coder changes"))

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    async def action_quit(self) -> None:
        self.bridge.close(timeout=10)
        self.exit()

    # ------------------------------------------------------------------ the event stream

    def _drain(self) -> None:
        for item in self.bridge.drain():
            self.handle(item)

    def handle(self, item: Item) -> None:
        """Show one event (or bridge notice) on screen."""
        if isinstance(item, PatchChanged):
            self.patch = item.patch
        elif isinstance(item, Notice):
            self.notify(visible(item.text), severity=item.severity,  # type: ignore[arg-type]
                        timeout=10, markup=False)
            self.query_one(Transcript).add_line(f"[red]{literal(item.text)}[/]")
        elif isinstance(item, Idle):
            self._turn_started = None
            self.status.state = "ready"
            self._show_status()
        else:
            handler = self._handlers.get(item.type)
            if handler is not None:
                handler(item)

    def _transcript(self) -> Transcript:
        return self.query_one(Transcript)

    def _run_started(self, e: RunStarted) -> None:
        self._transcript().add_line(f"[dim]run {literal_line(e.run_id)} · {literal_line(e.model)} · "
                                    f"sandbox {literal_line(e.sandbox)}[/]")

    def _plan_updated(self, e: PlanUpdated) -> None:
        self.query_one(PlanPanel).show(e.steps, e.revision)

    def _text_streamed(self, e: TextStreamed) -> None:
        entry = self._texts.get(e.step)
        if entry is None:
            entry = self._texts[e.step] = ModelText(e.step)
            self._transcript().add_widget(entry)
        entry.append(e.text)

    def _model_replied(self, e: ModelReplied) -> None:
        entry = self._texts.get(e.step)
        if e.text.strip():
            if entry is None:
                entry = self._texts[e.step] = ModelText(e.step)
                self._transcript().add_widget(entry)
            entry.replace(e.text.strip())
        elif entry is not None:
            entry.remove()
        s = self.status
        s.step = e.step
        s.prompt_tokens += e.prompt_tokens
        s.completion_tokens += e.completion_tokens
        s.cached_tokens += e.cached_tokens
        self._show_status()

    def _tool_call_rejected(self, e: ToolCallRejected) -> None:
        name = literal_line(e.name or "reply")
        self._transcript().add_line(f"[yellow]✗ rejected {name}: {literal(e.reason[:200])}[/]")

    def _tool_started(self, e: ToolStarted) -> None:
        entry = self._tools[e.call_id + str(e.step)] = ToolEntry(e.call_id, e.name, e.arguments)
        self._transcript().add_widget(entry)

    def _tool_finished(self, e: ToolFinished) -> None:
        entry = self._tools.get(e.call_id + str(e.step))
        if entry is not None:
            entry.finish(e.ok, e.output, e.seconds)

    def _file_edited(self, e: FileEdited) -> None:
        added = sum(1 for line in e.diff.splitlines() if line.startswith("+") and not line.startswith("+++"))
        removed = sum(1 for line in e.diff.splitlines() if line.startswith("-") and not line.startswith("---"))
        path = literal_line(e.path)
        self._transcript().add_line(f"  [magenta]edited {path}[/] [green]+{added}[/] [red]-{removed}[/]")

    def _tests_ran(self, e: TestsRan) -> None:
        color = "green" if e.failed + e.errors == 0 else "red"
        self._transcript().add_line(f"  [{color}]tests ({e.phase}): {e.passed} passed, {e.failed} failed, "
                                    f"{e.errors} errors[/]")

    def _hint_given(self, e: HintGiven) -> None:
        self._transcript().add_line(f"  [yellow]hint: {literal(e.reason)}[/]")

    def _limit_reached(self, e: LimitReached) -> None:
        self._transcript().add_line(f"[yellow]limit reached: {e.limit} ({e.value:g} of {e.maximum:g})[/]")

    def _run_finished(self, e: RunFinished) -> None:
        color = {"resolved": "green", "not_resolved": "yellow", "interrupted": "yellow"}.get(e.status, "red")
        lines = [f"[b {color}]{literal_line(e.status)}[/]: {literal(e.message)}"]
        if e.fail_to_pass:
            lines.append(f"  fail→pass: {literal_line(', '.join(e.fail_to_pass[:8]))}")
        if e.still_failing:
            lines.append(f"  [red]still failing: {literal_line(', '.join(e.still_failing[:8]))}[/]")
        if e.test_files:
            lines.append(f"  [yellow]the patch changes tests: {literal_line(', '.join(e.test_files[:8]))}[/] "
                         "(review them: the tests judge the fix)")
        if e.patch.strip():
            lines.append("  [dim]Ctrl+R reviews the changes hunk by hunk; type a message to continue.[/]")
        if is_preflight_message(e.message):  # stopped before the model was asked: say what to do next
            lines.append("  [dim]The task did not run. Fix the environment (or the settings named above), then send "
                         "the task again: a fresh sandbox runs the tests first.[/]")
            self.notify(visible(e.message), severity="error", timeout=15, markup=False)
        self._transcript().add_line("\n".join(lines), classes="finished")
        self.patch = e.patch or self.patch
        self.status.step = e.steps
        self._show_status()

    def _approval_requested(self, e: ApprovalRequested) -> None:
        self.status.state = "waiting for approval"
        self._show_status()
        self.push_screen(ApprovalScreen(e), self._approval_answered)

    def _approval_answered(self, decision: Any) -> None:
        self.bridge.decide(decision or "no")
        self.status.state = "working"
        self._show_status()

    def _approval_decided(self, e: ApprovalDecided) -> None:
        word = {"yes": "approved", "no": "declined", "always": "approved for this session"}[e.decision]
        self._transcript().add_line(f"  [dim]{literal_line(e.name)} {word}[/]")

    def _step_undone(self, e: StepUndone) -> None:
        changed = f" [dim]{literal_line(', '.join(e.changed))}[/]" if e.changed else ""
        self._transcript().add_line(f"[magenta]↶ {literal(e.message)}[/]{changed}")

    def _candidate_tried(self, e: CandidateTried) -> None:
        line = f"  [{CANDIDATE_COLORS.get(e.verdict, 'yellow')}]{literal_line(candidate_summary(e))}[/]"
        if e.functions:
            line += f" [dim]{literal_line(', '.join(e.functions[:4]))}[/]"
        if e.reason and e.verdict != "accepted":
            line += f" [dim]{literal_line(visible_line(e.reason)[:160])}[/]"
        self._transcript().add_line(line)

    # ------------------------------------------------------------------ status

    def _working(self, state: str = "working") -> None:
        self._turn_started = self.deps.clock()
        self.status.state = state
        self._show_status()

    def _tick(self) -> None:
        if self._turn_started is not None:
            self.status.elapsed = self.deps.clock() - self._turn_started
            self._show_status()

    def _show_status(self) -> None:
        self.query_one(StatusBar).status = self.status
