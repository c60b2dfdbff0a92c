"""Progress of a running eval: a live rich panel (overall bar, runs in flight, resolved so far per configuration) on a
terminal, one line per finished run otherwise."""

from __future__ import annotations

import threading
import time
from typing import Protocol

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from .jobs import Job
from .results import RunRecord


class Display(Protocol):
    def start(self, total: int, skipped: int) -> None: ...

    def note(self, text: str) -> None: ...

    def started(self, job: Job) -> None: ...

    def step(self, job: Job, step: int) -> None: ...

    def finished(self, job: Job, record: RunRecord) -> None: ...

    def stop(self) -> None: ...


def outcome_line(record: RunRecord) -> str:
    mark = "[green]✓ resolved[/]" if record.resolved else ("[red]! error[/]" if record.error else "[yellow]✗ not resolved[/]")
    detail = f"{record.status}, {record.steps} steps, {record.wall_seconds:.1f}s"
    if record.error:
        detail += f": {escape(record.error[:120])}"
    return f"{mark}  {escape(record.config)}  {escape(record.task)}#{record.run}  [dim]{escape(detail)}[/]"


class PlainDisplay:
    """One line per finished run (for logs, CI and pipes)."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.done = 0
        self.total = 0

    def start(self, total: int, skipped: int) -> None:
        self.total = total
        self.console.print(f"eval: {total} run(s) to do" + (f"; {skipped} run(s) already finished: skipped (use --redo "
                                                             "to run them again)" if skipped else ""), soft_wrap=True)

    def note(self, text: str) -> None:
        self.console.print(f"[dim]{escape(text)}[/]", soft_wrap=True)

    def started(self, job: Job) -> None:
        pass

    def step(self, job: Job, step: int) -> None:
        pass

    def finished(self, job: Job, record: RunRecord) -> None:
        self.done += 1
        self.console.print(f"[{self.done}/{self.total}] " + outcome_line(record), soft_wrap=True)

    def stop(self) -> None:
        pass


class RichDisplay:
    """A live panel: overall progress, the runs in flight with their step and time, resolved counts per config."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self._lock = threading.Lock()
        self._active: dict[tuple[str, str, int], tuple[int, float]] = {}
        self._tally: dict[str, list[int]] = {}
        self._progress = Progress(TextColumn("[bold]eval"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                                  console=console)
        self._bar = self._progress.add_task("runs", total=0)
        self._live: Live | None = None

    def __rich__(self) -> RenderableType:
        with self._lock:
            active = sorted(self._active.items(), key=lambda kv: kv[1][1])
            tally = dict(self._tally)
        table = Table(box=None, show_header=True, header_style="dim", pad_edge=False)
        for name in ("running", "task", "step", "time"):
            table.add_column(name)
        now = time.monotonic()
        for (config, task, run), (step, began) in active:
            table.add_row(escape(config), escape(f"{task}#{run}"), str(step), f"{now - began:.0f}s")
        totals = "  ".join(f"{escape(c)}: [green]{ok}[/]/{n}" for c, (ok, n) in sorted(tally.items()))
        return Group(self._progress, table if active else "", f"[dim]resolved so far[/] {totals}" if totals else "")

    def start(self, total: int, skipped: int) -> None:
        self._progress.update(self._bar, total=total)
        if skipped:
            self.console.print(f"[dim]{skipped} run(s) already finished: skipped (use --redo to run them again)[/]")
        self._live = Live(self, console=self.console, refresh_per_second=4, transient=False)
        self._live.start()

    def note(self, text: str) -> None:
        self.console.print(f"[dim]{escape(text)}[/]")

    def started(self, job: Job) -> None:
        with self._lock:
            self._active[job.key] = (0, time.monotonic())

    def step(self, job: Job, step: int) -> None:
        with self._lock:
            if job.key in self._active:
                self._active[job.key] = (step, self._active[job.key][1])

    def finished(self, job: Job, record: RunRecord) -> None:
        with self._lock:
            self._active.pop(job.key, None)
            ok, n = self._tally.get(record.config, [0, 0])
            self._tally[record.config] = [ok + int(record.resolved), n + 1]
        self._progress.advance(self._bar)
        self.console.print(outcome_line(record))

    def stop(self) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None


def make_display(console: Console) -> Display:
    return RichDisplay(console) if console.is_terminal else PlainDisplay(console)
