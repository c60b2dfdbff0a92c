"""What the TUI shows from the model or the sandbox: control characters visible, markup literal, binary named.

A raw ESC sequence in a transcript line or a diff hunk reached the terminal (a line could hide itself), and a file name
or tool argument holding `[bold]`, `[$var]` or `[@click=...]` was read as Textual markup."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

from rich.console import Console
from textual.widgets import Static

from coder.agent import Agent
from coder.config import Config
from coder.events import (
    ApprovalDecided,
    ApprovalRequested,
    CandidateTried,
    FileEdited,
    HintGiven,
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
from coder.sandboxes.local import LocalSandbox
from coder.testing import ScriptedModel
from coder.tui.app import CoderApp, TuiDeps
from coder.tui.bridge import AgentBridge, Idle, Notice, PatchChanged
from coder.tui.diff_review import DiffReviewScreen, HunkView
from coder.tui.modals import ApprovalScreen
from coder.tui.widgets import PlanPanel, StatusBar, ToolEntry, Transcript

REPO = Path("/home/dev/repo")
# An ESC sequence that erases the line, bidi and zero-width characters, an undecodable byte, and markup of each kind.
ESC = "\x1b[2K\r"
MARKUP = "[bold]b[/bold] [link=http://e.com]l[/link] [$accent]v [@click=app.quit]q[/] x\\"
HOSTILE = f"evil{ESC}ok \u202eabc\u2066 zw\u200b caf\udce9 {MARKUP}"
SHOWN = f"evil\\x1b[2K\\rok \\u202eabc\\u2066 zw\\u200b caf\\xe9 {MARKUP}"
RAW = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")

PATCH = ("diff --git a/m.py b/m.py\n--- a/m.py\n+++ b/m.py\n@@ -1 +1,2 @@\n x = 1\n"
         f"+import os; os.system('id'){ESC}# harmless\n"
         "diff --git a/[bold]n\u202e.py b/[bold]n\u202e.py\n--- a/[bold]n\u202e.py\n+++ b/[bold]n\u202e.py\n"
         "@@ -1 +1 @@\n-a\n+b\n"
         "diff --git a/logo.bin b/logo.bin\nindex 20b5be9..1131663 100644\nGIT binary patch\nliteral 6\n"
         "NcmYdfNM>YW1^@%%0LuUX\n\nliteral 3\nKcmYdfNCE%>hycU@\n\n")

EVENTS = [
    RunStarted(run_id="run-1", task=HOSTILE, model=HOSTILE, sandbox=HOSTILE, repo=str(REPO)),
    PlanUpdated(steps=(HOSTILE,), revision=1),
    TextStreamed(step=1, text=HOSTILE),
    ModelReplied(step=1, text=HOSTILE, tool_calls=(), prompt_tokens=10, completion_tokens=1, cached_tokens=0, seconds=0.1),
    ToolCallRejected(step=1, name=HOSTILE, reason=HOSTILE),
    ToolStarted(step=2, call_id="c1", name=HOSTILE, arguments={"path": HOSTILE}),
    ToolFinished(step=2, call_id="c1", name=HOSTILE, ok=True, output=HOSTILE + "\n" + HOSTILE, seconds=0.1),
    FileEdited(step=2, path=HOSTILE, diff="+x\n"),
    TestsRan(phase="step", runner="pytest", command=HOSTILE, passed=1, failed=0, errors=0, skipped=0),
    HintGiven(step=3, reason=HOSTILE),
    ApprovalDecided(step=3, call_id="c2", name=HOSTILE, decision="yes"),
    StepUndone(steps=(2,), changed=(HOSTILE,), message=HOSTILE),
    CandidateTried(step=3, index=1, total=2, verdict="discarded", functions=(HOSTILE,), reason=HOSTILE),
    RunFinished(status="resolved", message=HOSTILE, patch=PATCH, steps=3, elapsed=1.0, prompt_tokens=10, completion_tokens=1, cached_tokens=0, fail_to_pass=(HOSTILE,), still_failing=(HOSTILE,)),
    Notice(HOSTILE, "error"),
    PatchChanged(PATCH),
    Idle(),
]


def make_app() -> CoderApp:
    bridge = AgentBridge(Agent(ScriptedModel([]), LocalSandbox(), Config()), REPO)
    return CoderApp(TuiDeps(bridge, REPO, HOSTILE, "local", clock=lambda: 0.0, notices=[HOSTILE]))


def plain(widget: Any) -> str:
    if isinstance(widget, ToolEntry):
        return widget._title.label.plain + "\n" + plain(widget.body)
    if isinstance(widget, HunkView):  # a rich renderable (Syntax or Text): render it as the terminal would
        console = Console(file=io.StringIO(), width=200, color_system=None)
        console.print(widget.content)
        return console.file.getvalue()  # type: ignore[attr-defined]
    return str(widget.render())


def assert_shown(text: str, count: int = 1) -> None:
    assert RAW.search(text) is None, repr(text)
    assert text.count(SHOWN) >= count, text


async def test_transcript_plan_and_status_show_hostile_text_literally() -> None:
    app = make_app()
    async with app.run_test(size=(200, 60)) as pilot:
        for item in EVENTS:
            app.handle(item)
        await pilot.pause()
        parts = [plain(w) for w in app.query_one(Transcript).children]
        text = "\n".join(parts)
        assert RAW.search(text) is None, repr(text)
        # run_started, model text, rejected (name, reason), tool (name, arguments, output x2), edited, tests, hint,
        # decided, undone (message, changed), candidate (functions, reason), finished (message, fail->pass, still
        # failing), notice, startup notice
        assert text.count(SHOWN) >= 19, text
        tool = app.query_one(ToolEntry)
        assert tool._title.label.plain.startswith("✓ evil\\x1b[2K\\rok")
        assert_shown(plain(app.query_one(PlanPanel)))
        assert_shown(plain(app.query_one(StatusBar)))
        assert app.is_running  # the [@click=app.quit] link was not made a link


async def test_notifications_are_literal() -> None:
    app = make_app()
    async with app.run_test(size=(200, 60)) as pilot:
        app.handle(Notice(HOSTILE, "error"))
        await pilot.pause()
        messages = [n.message for n in app._notifications]
        assert messages and all(m == SHOWN for m in messages) and all(not n.markup for n in app._notifications)


async def test_approval_modal_is_literal() -> None:
    app = make_app()
    async with app.run_test(size=(200, 60)) as pilot:
        await app.push_screen(ApprovalScreen(ApprovalRequested(step=1, call_id="c", name=HOSTILE, arguments={"command": HOSTILE}, reason=HOSTILE)))
        await pilot.pause()
        texts = [plain(w) for w in app.screen.query(Static)]
        joined = "\n".join(texts)
        assert RAW.search(joined) is None, repr(joined)
        assert joined.count(SHOWN) >= 2  # name, reason
        assert "evil\\\\x1b" in joined or "evil\\x1b" in joined  # the arguments (as JSON)


async def test_diff_review_reveals_hidden_lines_and_names_binary_changes() -> None:
    app = make_app()
    async with app.run_test(size=(200, 60)) as pilot:
        await app.push_screen(DiffReviewScreen(PATCH, REPO, "t"))
        await pilot.pause()
        screen = app.screen
        views = list(screen.query(HunkView))
        shown = [plain(v) for v in views]
        titles = [v.border_title or "" for v in views]
        files = [plain(w) for w in screen.query(".file-title")]
        everything = "\n".join(shown + titles + files)
        assert RAW.search(everything) is None, repr(everything)
        assert "+import os; os.system('id')\\x1b[2K\\r# harmless" in shown[0]
        assert "[bold]n\\u202e.py" in files[1] and views[1].render_str(titles[1]).plain.startswith("[bold]n\\u202e.py")
        assert "GIT binary patch" not in shown[2] and "NcmYdf" not in shown[2]
        assert "binary change: logo.bin (modified): 6 bytes, was 3 bytes" in shown[2]
        assert "binary" in files[2] and "binary" in views[2].render_str(titles[2]).plain
