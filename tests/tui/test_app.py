"""Pilot tests: every interaction of the TUI, driven by a scripted model through the real agent on the local sandbox."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import astuple
from pathlib import Path

import pytest
from textual.widgets import Input, Static
from tui_helpers import FIX, TIDY, settle, type_text

from coder.events import EVENT_TYPES, TextStreamed
from coder.models.base import Message, ModelReply
from coder.testing import call, reply
from coder.tui.app import CoderApp
from coder.tui.diff_review import DiffReviewScreen, HunkView
from coder.tui.modals import ApprovalScreen, BranchScreen, ConfirmScreen, HelpScreen
from coder.tui.widgets import ModelText, PlanPanel, StatusBar, ToolEntry, Transcript
from repo_helpers import git, tree_snapshot
from test_trajectory import SAMPLES

PLAN = "Plan:\n1. Read calc.py\n2. Fix add\n3. Run the tests"
SOLVE = [reply(PLAN, call("view_file", path="calc.py")), reply("", FIX), reply("", TIDY),
         reply("Tests next.", call("run_tests")), reply("", call("submit", summary="add adds"))]


def transcript_text(app: CoderApp) -> str:
    parts = []
    for widget in app.query_one(Transcript).children:
        if isinstance(widget, ToolEntry):
            parts.append(widget.title)
        elif isinstance(widget, Static):
            parts.append(str(widget.render()))
    return "\n".join(parts)


def worktree(repo: Path) -> dict[str, str]:
    return {path: digest for path, digest in tree_snapshot(repo).items() if not path.startswith(".git/")}


def status_text(app: CoderApp) -> str:
    return str(app.query_one(StatusBar).render())


def shown(app: CoderApp) -> tuple[object, ...]:
    """Everything an event can change: transcript, plan, status, the patch and the screens."""
    main = app.screen_stack[0]
    widgets = []
    for widget in main.query_one(Transcript).children:
        widgets.append(widget.title if isinstance(widget, ToolEntry) else str(widget.render()))
    return (tuple(widgets), str(main.query_one(PlanPanel).render()), astuple(app.status), app.patch,
            tuple(type(screen).__name__ for screen in app.screen_stack))


# Events a sample needs before it, to have something to act on (a call finishes after it started).
BEFORE = {"tool_finished": ["tool_started"]}


def test_declared_types_are_event_types_and_dispatched(make_app: Callable[..., CoderApp]) -> None:
    assert CoderApp.handled_types <= set(EVENT_TYPES)
    assert set(make_app([])._handlers) == CoderApp.handled_types


@pytest.mark.parametrize("name", sorted(EVENT_TYPES))
async def test_the_screen_changes_exactly_for_the_declared_types(make_app: Callable[..., CoderApp], name: str) -> None:
    app = make_app([])
    async with app.run_test(size=(100, 30)) as pilot:
        for before in BEFORE.get(name, []):
            app.handle(SAMPLES[before])
        await pilot.pause()
        was = shown(app)
        app.handle(SAMPLES[name])
        await pilot.pause()
        changed = shown(app) != was
    assert changed == (name in CoderApp.handled_types), f"{name}: changed={changed}"


async def test_a_candidate_is_one_transcript_line(make_app: Callable[..., CoderApp]) -> None:
    from dataclasses import replace

    app = make_app([])
    async with app.run_test(size=(160, 30)) as pilot:
        app.handle(SAMPLES["candidate_tried"])
        app.handle(replace(SAMPLES["candidate_tried"], index=4, verdict="accepted", broken=0,  # type: ignore[type-var]
                           reason="not shown"))
        app.handle(replace(SAMPLES["candidate_tried"], index=5, verdict="duplicate",  # type: ignore[type-var]
                           functions=(), reason="same code as candidate 4"))
        await pilot.pause()
        text = transcript_text(app)
    assert ("candidate 3/8: fixes 2 of 3 failing tests, breaks 1 (rejected) calc.py:add, calc.py:_carry "
            "breaks tests/test_calc.py::test_mul") in text
    assert "candidate 4/8: fixes 2 of 3 failing tests, breaks 0 (accepted) calc.py:add" in text
    assert "not shown" not in text and "candidate 5/8: duplicate same code as candidate 4" in text


async def test_task_streams_text_tools_plan_and_status(make_app: Callable[..., CoderApp], tui_repo: Path) -> None:
    app = make_app(SOLVE)
    async with app.run_test(size=(100, 30)) as pilot:
        for key in "fix add":  # typed key by key, like a user
            await pilot.press("space" if key == " " else key)
        await pilot.press("enter")
        await settle(pilot)
        text = transcript_text(app)
        assert "› fix add" in text
        assert [e.tool_name for e in app.query(ToolEntry)] == ["view_file", "edit_file", "edit_file", "run_tests",
                                                                "submit"]
        assert all(e.title.startswith("✓") for e in app.query(ToolEntry))
        assert "tests (baseline): 0 passed, 1 failed" in text and "resolved" in text and "fail→pass" in text
        assert [t.text for t in app.query(ModelText)] == [PLAN, "Tests next."]
        plan = str(app.query_one(PlanPanel).render())
        assert "1. Read calc.py" in plan and "3. Run the tests" in plan
        status = status_text(app)
        assert "ready" in status and "scripted" in status and "local" in status and "step 5" in status
        assert "600 tok" in status  # 5 replies x (100 prompt + 20 completion) tokens
    assert (tui_repo / "calc.py").read_text().startswith("def add(a, b):\n    return a - b")  # host untouched


async def test_tool_entry_expands_to_its_output(make_app: Callable[..., CoderApp]) -> None:
    app = make_app(SOLVE)
    async with app.run_test(size=(100, 30)) as pilot:
        await type_text(pilot, "fix add")
        await settle(pilot)
        view = app.query(ToolEntry).first()
        assert view.collapsed
        await pilot.click(view.query_one("CollapsibleTitle"))
        await pilot.pause()
        assert not view.collapsed
        assert "return a - b" in str(view.body.render())


async def test_review_accept_one_hunk_and_write_it(make_app: Callable[..., CoderApp], tui_repo: Path) -> None:
    app = make_app(SOLVE)
    async with app.run_test(size=(100, 30)) as pilot:
        await type_text(pilot, "fix add")
        await settle(pilot)
        await pilot.press("ctrl+r")
        screen = app.screen
        assert isinstance(screen, DiffReviewScreen)
        assert [h.key for h in screen.query(HunkView)] == [(0, 0), (0, 1)]
        await pilot.press("a")  # accept the fix (focus moves to the next hunk)
        await pilot.press("r")  # reject the unrelated tidy-up
        assert [h.verdict for h in screen.query(HunkView)] == ["accepted", "rejected"]
        assert "1 accepted" in str(screen.query_one("#review-summary", Static).render())
        await pilot.press("w")
        await pilot.pause()
        assert not isinstance(app.screen, DiffReviewScreen)
    calc = (tui_repo / "calc.py").read_text()
    assert "return a + b" in calc and "# checked" not in calc
    assert git(tui_repo, "status", "--porcelain").strip() == "M calc.py"


async def test_write_over_uncommitted_changes_needs_consent(make_app: Callable[..., CoderApp], tui_repo: Path) -> None:
    app = make_app(SOLVE)
    async with app.run_test(size=(100, 30)) as pilot:
        await type_text(pilot, "fix add")
        await settle(pilot)
        (tui_repo / "tests" / "test_calc.py").write_text("# my own work in progress\n")
        await pilot.press("ctrl+r", "A", "w")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        assert isinstance(app.screen, DiffReviewScreen)
        assert "return a - b" in (tui_repo / "calc.py").read_text()  # refused: nothing written
        await pilot.press("w")
        await pilot.press("y")
        await pilot.pause()
    assert "return a + b" in (tui_repo / "calc.py").read_text()
    assert "coder: backup before applying patch" in git(tui_repo, "stash", "list")


async def test_commit_accepted_hunks_on_a_branch(make_app: Callable[..., CoderApp], tui_repo: Path) -> None:
    before = worktree(tui_repo)
    head = git(tui_repo, "rev-parse", "--abbrev-ref", "HEAD").strip()
    app = make_app(SOLVE)
    async with app.run_test(size=(100, 30)) as pilot:
        await type_text(pilot, "fix add")
        await settle(pilot)
        await pilot.press("ctrl+r", "a", "b")
        assert isinstance(app.screen, BranchScreen)
        assert app.screen.query_one(Input).value == "coder/fix-add"
        await pilot.press("enter")
        await pilot.pause()
    assert worktree(tui_repo) == before and git(tui_repo, "rev-parse", "--abbrev-ref", "HEAD").strip() == head
    shown = git(tui_repo, "show", "coder/fix-add", "--", "calc.py")
    assert "+    return a + b" in shown and "# checked" not in shown


async def test_approval_modal_yes_no_always(make_app: Callable[..., CoderApp]) -> None:
    steps = [reply("", call("bash", command=f"echo {n} > {n}.txt")) for n in ("one", "two", "three", "four")]
    steps += [reply("", FIX), reply("", call("submit", summary="done"))]
    app = make_app(steps, agent={"approval": "risky", "stream": True})
    async with app.run_test(size=(100, 30)) as pilot:
        await type_text(pilot, "fix add")
        for answer in ("n", "click-yes", "a"):
            for _ in range(200):
                await pilot.pause(0.05)
                # pushed and composed: under load the screen can be current before its widgets are mounted
                if isinstance(app.screen, ApprovalScreen) and app.screen.query("#approval-reason"):
                    break
            assert isinstance(app.screen, ApprovalScreen)
            assert "runs a shell command" in str(app.screen.query_one("#approval-reason", Static).render())
            assert "waiting for approval" in status_text(app)
            if answer == "click-yes":
                await pilot.click("#yes")  # the mouse works too
            else:
                await pilot.press(answer)
        await settle(pilot)
        assert not isinstance(app.screen, ApprovalScreen)  # "always" covered the fourth call
        text = transcript_text(app)
        assert "bash declined" in text and "bash approved\n" in text + "\n" and "bash approved for this session" in text
        assert "one.txt" not in app.patch
        assert all(f"{n}.txt" in app.patch for n in ("two", "three", "four"))


async def test_follow_up_continues_the_session(make_app: Callable[..., CoderApp]) -> None:
    steps = [reply("", FIX), reply("", call("submit", summary="fixed")),
             reply("", call("bash", command="echo note > NOTES.txt")), reply("", call("submit", summary="noted"))]
    app = make_app(steps)
    async with app.run_test(size=(100, 30)) as pilot:
        await type_text(pilot, "fix add")
        await settle(pilot)
        session = app.bridge.session
        await type_text(pilot, "also leave a note")
        await settle(pilot)
        assert app.bridge.session is session  # same session, same sandbox
        assert "NOTES.txt" in app.patch and "return a + b" in app.patch
        assert app.model.calls[2][-1].content == "also leave a note"  # type: ignore[attr-defined]


async def test_ctrl_c_interrupts_the_step_and_keeps_the_session(make_app: Callable[..., CoderApp]) -> None:
    started = threading.Event()

    def slow_model(messages: Sequence[Message]) -> ModelReply:
        started.set()
        session = app.bridge.session
        assert session is not None
        session.state.cancel.wait(30)  # the model "thinks" until the user interrupts
        return reply("", call("view_file", path="calc.py"))

    app = make_app([reply("", FIX), slow_model, reply("", call("submit", summary="done"))])
    async with app.run_test(size=(100, 30)) as pilot:
        await type_text(pilot, "fix add")
        for _ in range(200):
            await pilot.pause(0.05)
            if started.is_set():
                break
        await pilot.press("ctrl+c")
        await settle(pilot)
        assert "interrupted" in transcript_text(app) and "session is kept" in transcript_text(app)
        assert app.bridge.session is not None and app.bridge.session.alive
        assert "return a + b" in app.patch
        await type_text(pilot, "go on")
        await settle(pilot)
        finished = [str(w.render()) for w in app.query(".finished")]
        assert finished[0].startswith("interrupted") and finished[-1].startswith("resolved")


async def test_undo_returns_the_workspace_to_before_the_last_change(make_app: Callable[..., CoderApp]) -> None:
    steps = [reply("", FIX), reply("", call("bash", command="rm tests/test_calc.py && echo x > junk.txt")),
             reply("", call("submit", summary="done"))]
    app = make_app(steps)
    async with app.run_test(size=(100, 30)) as pilot:
        await type_text(pilot, "fix add")
        await settle(pilot)
        assert "junk.txt" in app.patch and "tests/test_calc.py" in app.patch
        await type_text(pilot, "undo")
        await settle(pilot)
        assert "undid steps 2-3" in transcript_text(app)
        assert "junk.txt" not in app.patch and "test_calc.py" not in app.patch and "return a + b" in app.patch
        await pilot.press("ctrl+z")
        await settle(pilot)
        assert app.patch == ""


async def test_help_screen_and_clean_quit(make_app: Callable[..., CoderApp]) -> None:
    app = make_app(SOLVE)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("question_mark")  # in the empty message box: help, not a typed "?"
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)
        assert app.query_one(Input).value == ""
        await type_text(pilot, "fix add")
        await settle(pilot)
        sandbox_dir = app.bridge.session.sandbox_session.root  # type: ignore[union-attr]
        assert sandbox_dir.exists()
        await pilot.press("ctrl+q")
        await pilot.pause()
    assert not app.is_running and not sandbox_dir.exists()  # quitting removed the sandbox


async def test_usable_at_80x24(make_app: Callable[..., CoderApp]) -> None:
    app = make_app(SOLVE)
    async with app.run_test(size=(80, 24)) as pilot:
        await type_text(pilot, "fix add")
        await settle(pilot)
        for selector in ("#transcript", "#plan", "#task", "#status"):
            region = app.query_one(selector).region
            assert region.width > 0 and region.height > 0 and region.right <= 80 and region.bottom <= 24, selector
        assert app.query_one("#transcript").region.width >= 50


def test_streamed_tokens_are_batched(make_app: Callable[..., CoderApp]) -> None:
    bridge = make_app([]).bridge
    for piece in ["a"] * 500:
        bridge._items.put(TextStreamed(step=1, text=piece))
    bridge._items.put(TextStreamed(step=2, text="b"))
    assert bridge.drain() == [TextStreamed(step=1, text="a" * 500), TextStreamed(step=2, text="b")]
