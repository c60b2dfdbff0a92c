"""Renderers for the event stream: live rich output for terminals and JSON lines for machines.

Every string an event carries came from the model or the sandbox, so the rich renderer prints it with control
characters made visible (coder.visible) and markup escaped; the JSON renderer writes them as \\u escapes."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import IO, Any, ClassVar

from rich.console import Console
from rich.markup import escape
from rich.syntax import Syntax
from rich.text import Text

from .events import (
    EVENT_TYPES,
    ApprovalDecided,
    ApprovalRequested,
    CandidateTried,
    Event,
    FileEdited,
    FollowUpSent,
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
    to_dict,
)
from .patch_view import binary_changes, review_text
from .visible import json_line, visible, visible_line


def _line(text: str) -> str:
    """A name, path or id from outside, as literal one-line markup."""
    return escape(visible_line(text))


def _text(text: str) -> str:
    """Free text from outside (newlines kept), as literal markup."""
    return escape(visible(text))


def short_args(arguments: dict[str, Any], width: int = 70, value_width: int = 40) -> str:
    """One line of KEY=VALUE pairs, newlines shown as ⏎, each value cut to VALUE_WIDTH and the line to WIDTH."""
    parts = []
    for key, value in arguments.items():
        text = value if isinstance(value, str) else json.dumps(value)
        text = visible_line(text.replace("\n", "⏎"))
        parts.append(f"{visible_line(key)}={text[:value_width] + '…' if len(text) > value_width else text}")
    joined = ", ".join(parts)
    return joined[:width] + ("…" if len(joined) > width else "")


CANDIDATE_COLORS = {"accepted": "green", "rejected": "red", "discarded": "yellow", "duplicate": "yellow"}


def candidate_summary(e: CandidateTried) -> str:
    """One plain line for a candidate repair (the CLI and the TUI both show it): what it fixed and broke, and its
    verdict; a candidate that was not run (discarded, duplicate) says only that."""
    head = f"candidate {e.index}/{e.total}"
    if e.verdict in ("discarded", "duplicate"):
        return f"{head}: {e.verdict}"
    tests = "test" if e.failing == 1 else "tests"
    fixes = f"fixes {e.fixed} of {e.failing} failing {tests}, " if e.failing else "no failing test to fix, "
    return f"{head}: {fixes}breaks {e.broken} ({e.verdict})"


class RichRenderer:
    """Human-readable progress: the plan, one line per tool call, tokens and elapsed time."""

    # tool_started prints nothing (the finished line carries the outcome: one line per call).
    handled_types: ClassVar[frozenset[str]] = frozenset({
        "run_started", "plan_updated", "text_streamed", "model_replied", "tool_call_rejected", "tool_finished",
        "file_edited", "tests_ran", "hint_given", "limit_reached", "run_finished", "follow_up_sent",
        "approval_requested", "approval_decided", "step_undone", "candidate_tried"})

    def __init__(self, console: Console | None = None, show_text: bool = True) -> None:
        self.console = console or Console(stderr=True, highlight=False)
        self.show_text = show_text
        self._handlers: dict[str, Callable[[Any], None]] = {
            "run_started": self._run_started,
            "plan_updated": self._plan_updated,
            "text_streamed": self._text_streamed,
            "model_replied": self._model_replied,
            "tool_call_rejected": self._tool_call_rejected,
            "tool_finished": self._tool_finished,
            "file_edited": self._file_edited,
            "tests_ran": self._tests_ran,
            "hint_given": self._hint_given,
            "limit_reached": self._limit_reached,
            "run_finished": self._run_finished,
            "follow_up_sent": self._follow_up_sent,
            "approval_requested": self._approval_requested,
            "approval_decided": self._approval_decided,
            "step_undone": self._step_undone,
            "candidate_tried": self._candidate_tried,
        }
        self._tokens = 0
        self._streaming = False

    def __call__(self, event: Event) -> None:
        handler = self._handlers.get(event.type)
        if handler is not None:
            handler(event)

    def _print(self, *objects: Any, **options: Any) -> None:
        """Print without emoji codes: ':white_check_mark:' in tool output must not become a check mark."""
        self.console.print(*objects, emoji=False, **options)

    def _end_stream(self) -> None:
        if self._streaming:
            self._print()
            self._streaming = False

    def _run_started(self, e: RunStarted) -> None:
        self._print(f"[bold]coder[/] “{_text(e.task)}”  [dim]model={_line(e.model)} sandbox={_line(e.sandbox)} run={_line(e.run_id)}[/]")

    def _plan_updated(self, e: PlanUpdated) -> None:
        self._end_stream()
        title = "Plan" if e.revision == 1 else f"Plan (revision {e.revision})"
        self._print(f"[bold cyan]{title}[/]")
        for number, step in enumerate(e.steps, 1):
            self._print(f"  {number}. {_line(step)}")

    def _text_streamed(self, e: TextStreamed) -> None:
        if self.show_text:
            self._print(Text(visible(e.text), style="dim"), end="")
            self._streaming = True

    def _model_replied(self, e: ModelReplied) -> None:
        self._end_stream()
        self._tokens += e.prompt_tokens + e.completion_tokens
        cache = f", {e.cached_tokens} cached ({e.cached_tokens / e.prompt_tokens:.0%} hit)" if e.cached_tokens and e.prompt_tokens else ""
        self._print(f"[dim]step {e.step}: {e.prompt_tokens}+{e.completion_tokens} tokens{cache}, {e.seconds:.1f}s "
                           f"(total {self._tokens})[/]")

    def _tool_call_rejected(self, e: ToolCallRejected) -> None:
        self._print(f"  [yellow]✗ rejected {_line(e.name or 'reply')}[/]: {_line(e.reason)[:120]}")

    def _tool_finished(self, e: ToolFinished) -> None:
        mark = "[green]✓[/]" if e.ok else "[red]✗[/]"
        first = visible_line(e.output.strip().split("\n")[0])[:90] if e.output.strip() else ""
        self._print(f"  {mark} {_line(e.name)} [dim]{e.seconds:.2f}s[/] {escape(first)}")

    def _file_edited(self, e: FileEdited) -> None:
        added = sum(1 for line in e.diff.splitlines() if line.startswith("+") and not line.startswith("+++"))
        removed = sum(1 for line in e.diff.splitlines() if line.startswith("-") and not line.startswith("---"))
        self._print(f"    [magenta]edited {_line(e.path)}[/] [green]+{added}[/] [red]-{removed}[/]")

    def _tests_ran(self, e: TestsRan) -> None:
        color = "green" if e.failed + e.errors == 0 else "red"
        self._print(f"  [{color}]tests ({e.phase}): {e.passed} passed, {e.failed} failed, {e.errors} errors, "
                           f"{e.skipped} skipped[/] [dim]{_line(e.command)}[/]")

    def _hint_given(self, e: HintGiven) -> None:
        self._print(f"  [yellow]hint: {_text(e.reason)}[/]")

    def _limit_reached(self, e: LimitReached) -> None:
        self._print(f"[yellow]limit reached: {e.limit} ({e.value:g} of {e.maximum:g})[/]")

    def _run_finished(self, e: RunFinished) -> None:
        self._end_stream()
        color = {"resolved": "green", "not_resolved": "yellow"}.get(e.status, "red")
        self._print(f"[bold {color}]{_line(e.status)}[/]: {_text(e.message)}")
        if e.fail_to_pass:
            self._print(f"  fail→pass: {_line(', '.join(e.fail_to_pass))}")
        if e.still_failing:
            self._print(f"  [red]still failing: {_line(', '.join(e.still_failing[:10]))}[/]")
        if e.pass_to_fail:
            self._print(f"  [red]broken by the change: {_line(', '.join(e.pass_to_fail[:10]))}[/]")
        if e.test_files:
            self._print(f"  [yellow]the patch changes tests: {_line(', '.join(e.test_files[:10]))}[/] (review them: "
                        "the tests judge the fix)")
        hit = f", {e.cached_tokens / e.prompt_tokens:.0%} cache hit" if e.prompt_tokens else ""
        self._print(f"[dim]{e.steps} steps, {e.prompt_tokens}+{e.completion_tokens} tokens "
                           f"({e.cached_tokens} cached{hit}), {e.elapsed:.1f}s[/]")

    def _follow_up_sent(self, e: FollowUpSent) -> None:
        self._end_stream()
        self._print(f"[bold]you[/]: {_text(e.text)}")

    def _approval_requested(self, e: ApprovalRequested) -> None:
        self._end_stream()
        self._print(f"  [yellow]? {_line(e.name)} needs approval[/]: {_text(e.reason)}")

    def _approval_decided(self, e: ApprovalDecided) -> None:
        word = {"yes": "approved", "no": "declined", "always": "approved for this session"}[e.decision]
        self._print(f"  [dim]{_line(e.name)} {word}[/]")

    def _step_undone(self, e: StepUndone) -> None:
        self._print(f"[magenta]{_text(e.message)}[/]" + (f" [dim]{_line(', '.join(e.changed))}[/]" if e.changed else ""))

    def _candidate_tried(self, e: CandidateTried) -> None:
        self._end_stream()
        color = CANDIDATE_COLORS.get(e.verdict, "yellow")
        line = f"  [{color}]{_line(candidate_summary(e))}[/]"
        if e.functions:
            line += f" [dim]{_line(', '.join(e.functions[:4]))}[/]"
        if e.reason and e.verdict != "accepted":
            line += f" [dim]{escape(visible_line(e.reason)[:160])}[/]"  # cut before escaping: no dangling backslash
        self._print(line)

    def show_patch(self, patch: str) -> None:
        """The patch for review: hidden characters visible, each binary change one marked line with its size."""
        if not patch.strip():
            self._print("[dim](no changes)[/]")
            return
        self._print(Syntax(review_text(patch), "diff", theme="ansi_dark", word_wrap=True))
        for change in binary_changes(patch):
            self._print(f"[bold yellow]! {escape(change.describe())}[/]")


class JsonRenderer:
    """One JSON object per event per line, on stdout."""

    handled_types: ClassVar[frozenset[str]] = frozenset(EVENT_TYPES)  # every event is written, whatever its type

    def __init__(self, stream: IO[str] | None = None) -> None:
        self.stream = stream or sys.stdout

    def __call__(self, event: Event) -> None:
        self.stream.write(json_line(to_dict(event)) + "\n")
        self.stream.flush()
