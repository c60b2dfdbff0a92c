"""The diff review screen: the workspace patch per file and per hunk; accept or reject each, then apply or commit."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

import git
from rich.syntax import Syntax
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

from ..apply import ApplyError, apply_to_worktree, commit_on_branch, is_dirty
from ..patch_view import BinaryChange, binary_change, file_name
from ..patches import FilePatch, Hunk, parse_patch, select_hunks
from ..visible import visible
from .literal import literal_line
from .modals import BranchScreen, ConfirmScreen

Verdict = Literal["pending", "accepted", "rejected"]
MARKS = {"pending": "[yellow]?[/]", "accepted": "[green]✓ accepted[/]", "rejected": "[red]✗ rejected[/]"}


class HunkView(Static, can_focus=True):
    """One hunk, syntax highlighted with hidden characters visible, bordered by its verdict; click to focus.

    A binary file's hunk shows one line naming the change and its size, never the base85."""

    def __init__(self, file_index: int, hunk_index: int, file: FilePatch, hunk: Hunk) -> None:
        super().__init__(classes="hunk pending")
        self.key = (file_index, hunk_index)
        self.file, self.hunk = file, hunk
        self.binary: BinaryChange | None = binary_change(file) if hunk.whole_file else None
        self.verdict: Verdict = "pending"

    def on_mount(self) -> None:
        self._render_hunk()

    def set_verdict(self, verdict: Verdict) -> None:
        self.verdict = verdict
        self.set_classes(f"hunk {verdict}")
        self._render_hunk()

    def _render_hunk(self) -> None:
        if self.binary is not None:
            self.update(Text(f"*** {self.binary.describe()} ***", style="bold yellow"))
        else:
            code = visible(self.hunk.text.rstrip("\n")) or "(no textual changes)"
            self.update(Syntax(code, "diff", theme="ansi_dark", word_wrap=True, background_color="default"))
        if self.hunk.whole_file:
            label = "binary" if self.binary else "whole file"
        else:
            label = f"hunk {self.key[1] + 1}/{len(self.file.hunks)}"
        self.border_title = f"{literal_line(file_name(self.file))} · {label}"
        self.border_subtitle = MARKS[self.verdict]


class DiffReviewScreen(Screen[None]):
    """Review the workspace patch; nothing touches the host until `w` (working tree) or `b` (branch)."""

    BINDINGS = [
        Binding("down,j", "move(1)", "Next", show=False),
        Binding("up,k", "move(-1)", "Prev", show=False),
        Binding("a", "verdict('accepted')", "Accept"),
        Binding("r", "verdict('rejected')", "Reject"),
        Binding("space", "toggle_verdict", "Toggle", show=False),
        Binding("A", "all('accepted')", "Accept all"),
        Binding("R", "all('rejected')", "Reject all"),
        Binding("w", "write", "Write to working tree"),
        Binding("b", "branch", "Commit on branch"),
        Binding("escape,q", "back", "Back"),
    ]

    def __init__(self, patch: str, repo: Path, title: str) -> None:
        super().__init__()
        self.patch, self.repo, self.task_title = patch, repo, title
        self.files = parse_patch(patch) if patch.strip() else []

    def compose(self) -> ComposeResult:
        yield Static(self._summary(), id="review-summary")
        with VerticalScroll(id="hunks"):
            if not self.files:
                yield Static("[dim]No changes in the workspace yet.[/]")
            for fi, file in enumerate(self.files):
                added = sum(h.added for h in file.hunks)
                removed = sum(h.removed for h in file.hunks)
                counts = "[yellow]binary[/]" if binary_change(file) else f"[green]+{added}[/] [red]-{removed}[/]"
                yield Static(f"[b]{literal_line(file_name(file))}[/] [dim]{file.status}[/] {counts}",
                             classes="file-title")
                for hi, hunk in enumerate(file.hunks):
                    yield HunkView(fi, hi, file, hunk)
        yield Footer()

    def on_mount(self) -> None:
        hunks = self.hunk_views()
        if hunks:
            hunks[0].focus()

    def hunk_views(self) -> list[HunkView]:
        return list(self.query(HunkView))

    def accepted(self) -> set[tuple[int, int]]:
        return {view.key for view in self.hunk_views() if view.verdict == "accepted"}

    def _summary(self) -> str:
        views = self.hunk_views() if self.is_mounted else []
        counts = {v: sum(1 for h in views if h.verdict == v) for v in ("accepted", "rejected", "pending")}
        total = sum(len(f.hunks) for f in self.files)
        return (f"[b]Review[/] {len(self.files)} file(s), {total} hunk(s): [green]{counts['accepted']} accepted[/], "
                f"[red]{counts['rejected']} rejected[/], {total - counts['accepted'] - counts['rejected']} pending")

    def _refresh_summary(self) -> None:
        self.query_one("#review-summary", Static).update(self._summary())

    def _current(self) -> HunkView | None:
        focused = self.focused
        return focused if isinstance(focused, HunkView) else None

    def action_move(self, delta: int) -> None:
        views = self.hunk_views()
        if not views:
            return
        current = self._current()
        index = views.index(current) + delta if current in views else 0
        target = views[max(0, min(len(views) - 1, index))]
        target.focus()
        target.scroll_visible()

    def action_verdict(self, verdict: Verdict) -> None:
        current = self._current()
        if current is None:
            return
        current.set_verdict(verdict)
        self._refresh_summary()
        self.action_move(1)

    def action_toggle_verdict(self) -> None:
        current = self._current()
        if current is not None:
            current.set_verdict("rejected" if current.verdict == "accepted" else "accepted")
            self._refresh_summary()

    def action_all(self, verdict: Verdict) -> None:
        for view in self.hunk_views():
            view.set_verdict(verdict)
        self._refresh_summary()

    def action_back(self) -> None:
        self.dismiss(None)

    def _selected_patch(self) -> str | None:
        accepted = self.accepted()
        if not accepted:
            self.notify("Accept at least one hunk first (a, or A for all).", severity="warning")
            return None
        return select_hunks(self.files, accepted)

    def action_write(self) -> None:
        patch = self._selected_patch()
        if patch is None:
            return
        if is_dirty(self.repo):
            question = ("Your working tree has uncommitted changes. Store a backup with `git stash` and then apply "
                        "the accepted hunks?")
            self.app.push_screen(ConfirmScreen(question), lambda yes: self._write(patch, stash=True) if yes else None)
        else:
            self._write(patch, stash=False)

    def _write(self, patch: str, stash: bool) -> None:
        try:
            backup = apply_to_worktree(self.repo, patch, stash=stash)
        except (ApplyError, git.GitCommandError) as exc:
            self.notify(visible(str(exc)), severity="error", timeout=10, markup=False)
            return
        extra = f" Your previous changes are in stash '{backup}'." if backup else ""
        self.notify(f"Wrote {len(self.accepted())} hunk(s) to your working tree.{extra}", timeout=8)
        self.dismiss(None)

    def action_branch(self) -> None:
        patch = self._selected_patch()
        if patch is None:
            return
        slug = re.sub(r"[^a-z0-9]+", "-", self.task_title.lower()).strip("-")[:40] or "fix"
        self.app.push_screen(BranchScreen(f"coder/{slug}"), lambda name: self._commit(patch, name) if name else None)

    def _commit(self, patch: str, branch: str) -> None:
        try:
            sha = commit_on_branch(self.repo, patch, branch, f"coder: {self.task_title}")
        except (ApplyError, git.GitCommandError) as exc:
            self.notify(visible(str(exc)), severity="error", timeout=10, markup=False)
            return
        self.notify(f"Committed on branch {branch} ({sha[:10]}); your working tree was not touched.", timeout=8)
        self.dismiss(None)
