"""Modal screens: approval of a risky call, yes/no confirmation, a branch name, and the help screen."""

from __future__ import annotations

import json

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from ..events import ApprovalRequested, Decision
from ..visible import visible
from .literal import literal, literal_line


class ApprovalScreen(ModalScreen[Decision]):
    """A risky call waits here for yes, no, or always (this tool, for the rest of the session)."""

    BINDINGS = [Binding("y", "decide('yes')", "Yes"), Binding("n", "decide('no')", "No"),
                Binding("a", "decide('always')", "Always"), Binding("escape", "decide('no')", "No", show=False)]

    def __init__(self, request: ApprovalRequested) -> None:
        super().__init__()
        self.request = request

    def compose(self) -> ComposeResult:
        args = json.dumps(self.request.arguments, indent=2, ensure_ascii=False)
        with Vertical(id="approval", classes="dialog"):
            yield Label(f"[b]{literal_line(self.request.name)}[/] needs your approval", id="approval-title")
            yield Static(literal(self.request.reason), id="approval-reason")
            with VerticalScroll(id="approval-args"):
                yield Static(visible(args), markup=False)
            with Horizontal(classes="buttons"):
                yield Button("Yes (y)", id="yes", variant="success")
                yield Button("No (n)", id="no", variant="error")
                yield Button("Always (a)", id="always", variant="primary")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(str(event.button.id))  # type: ignore[arg-type]

    def action_decide(self, decision: str) -> None:
        self.dismiss(decision)  # type: ignore[arg-type]


class ConfirmScreen(ModalScreen[bool]):
    """A yes/no question."""

    BINDINGS = [Binding("y", "answer(True)", "Yes"), Binding("n", "answer(False)", "No"),
                Binding("escape", "answer(False)", "No", show=False)]

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(self.question, markup=False)
            with Horizontal(classes="buttons"):
                yield Button("Yes (y)", id="yes", variant="warning")
                yield Button("No (n)", id="no")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)


class BranchScreen(ModalScreen[str | None]):
    """Asks for the name of the branch to commit the accepted hunks on."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, suggestion: str) -> None:
        super().__init__()
        self.suggestion = suggestion

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label("Commit the accepted hunks on a new branch:")
            yield Input(value=self.suggestion, id="branch-name")
            yield Static("[dim]Enter to commit, Esc to cancel. Your working tree and current branch stay as they are.[/]")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        name = event.value.strip()
        self.dismiss(name or None)

    def action_cancel(self) -> None:
        self.dismiss(None)


HELP = """\
[b]coder[/] — a Qwen-Coder agent working on a sandboxed copy of this repository

[b]Main screen[/]
  Enter          send the task; later messages continue the same session
  Ctrl+C         interrupt the current step (the session is kept)
  Ctrl+Z, undo   put the workspace back to before the last step that changed it
                 (files the shell made or changed included)
  Ctrl+R, diff   review the changes hunk by hunk
  Tab            move between the message box and the transcript
  Enter/click    on a tool call: show or hide its output
  ?, F1          this help        Ctrl+Q  quit (the sandbox is removed)

[b]Diff review[/]
  ↑ ↓ j k        previous / next hunk
  a / r          accept / reject the hunk     space  toggle
  A / R          accept / reject every hunk
  w              write the accepted hunks to your working tree
                 (refuses over uncommitted changes unless you agree to stash them)
  b              commit the accepted hunks on a new branch instead
  Esc, q         back

[b]Approval[/] (when the approval mode asks): y yes · n no · a always for this tool in this session

Nothing reaches your files until you write or commit accepted hunks."""


class HelpScreen(ModalScreen[None]):
    """Every key, on one screen."""

    BINDINGS = [Binding("escape", "close", "Close"), Binding("q", "close", "Close", show=False),
                Binding("question_mark", "close", "Close", show=False)]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help", classes="dialog"):
            yield Static(HELP)

    def action_close(self) -> None:
        self.dismiss(None)
