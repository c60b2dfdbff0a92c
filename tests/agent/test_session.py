"""Sessions on both sandboxes, driven by a scripted model: follow-ups, interrupts, undo with shell side effects, approval."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from coder.agent import Agent, AgentSession, SessionBusy
from coder.config import Config
from coder.envs.preflight import PREFIX
from coder.events import (
    ApprovalDecided,
    ApprovalRequested,
    FollowUpSent,
    RunFinished,
    StepUndone,
    TestsRan,
    ToolFinished,
    ToolStarted,
)
from coder.models.base import Message, ModelReply
from coder.sandboxes.base import Sandbox, SandboxError
from coder.task import Task
from coder.testing import ScriptedModel, call, reply
from repo_helpers import sandbox_leftovers, tree_snapshot

FIX = call("edit_file", path="calc.py", command="replace", old="return a - b", new="return a + b")


def open_session(repo: Path, sandbox: Sandbox, steps: list[Any], tmp_path: Path, approver: Any = None,
                 **overrides: Any) -> tuple[AgentSession, ScriptedModel]:
    model = ScriptedModel(steps)
    agent = Agent(model, sandbox, Config.model_validate(overrides), trajectory_dir=tmp_path / "traj", approver=approver)
    return agent.session(Task(repo=repo, issue="add() returns the wrong result")), model


def test_follow_up_continues_in_the_same_sandbox(buggy_repo: Path, sandbox: Sandbox, sandbox_kind: str, tmp_path: Path) -> None:
    before = tree_snapshot(buggy_repo)
    steps = [reply("", FIX), reply("", call("submit", summary="fixed")),
             reply("", call("bash", command="echo '# checked' >> calc.py")), reply("", call("submit", summary="noted"))]
    session, model = open_session(buggy_repo, sandbox, steps, tmp_path)
    with session:
        first = list(session.start())
        assert isinstance(first[-1], RunFinished) and first[-1].status == "resolved"
        second = list(session.follow_up("also leave a note in calc.py"))
        assert isinstance(second[0], FollowUpSent) and isinstance(second[-1], RunFinished)
        assert second[-1].status == "resolved" and second[-1].steps == 4
        assert "+    return a + b" in second[-1].patch and "+# checked" in second[-1].patch  # turn 1's edit is still there
        sent = model.calls[2]
        assert sent[-1].role == "user" and sent[-1].content == "also leave a note in calc.py"
        assert any(m.role == "tool" and "Edited" in m.content for m in sent)  # the whole conversation went along
    model.assert_consumed()
    assert tree_snapshot(buggy_repo) == before
    assert sandbox_leftovers(sandbox_kind) == []


def test_undo_restores_shell_side_effects_and_tells_the_model(buggy_repo: Path, sandbox: Sandbox, tmp_path: Path) -> None:
    steps = [reply("", FIX),
             reply("", call("bash", command="rm tests/test_calc.py && mkdir -p gen && echo junk > gen/out.txt")),
             reply("", call("view_file", path="calc.py")),
             reply("", call("submit", summary="done")),
             reply("", FIX), reply("", call("submit", summary="again"))]
    session, model = open_session(buggy_repo, sandbox, steps, tmp_path, agent={"baseline_tests": False})
    with session:
        list(session.start())
        assert "tests/test_calc.py" in session.patch()
        undone = list(session.undo())
        assert undone == [StepUndone(steps=(2, 3, 4), changed=("gen/out.txt", "tests/test_calc.py"),
                                     message="undid steps 2-4: 2 file(s) restored")]
        patch = session.patch()
        assert "test_calc.py" not in patch and "gen/out.txt" not in patch and "+    return a + b" in patch
        assert list(session.undo())[0].changed == ("calc.py",)
        assert session.patch() == ""
        assert list(session.undo())[0].message.startswith("nothing to undo")
        assert list(session.follow_up("try again"))[-1].status == "resolved"
        told = model.calls[4][-1].content
        assert "undid steps 2-4" in told and "undid step 1" in told and told.endswith("try again")


def test_interrupt_during_the_reply_keeps_the_session(buggy_repo: Path, sandbox: Sandbox, tmp_path: Path) -> None:
    holder: dict[str, AgentSession] = {}

    def interrupting(messages: Sequence[Message]) -> ModelReply:
        holder["session"].interrupt()  # as if Ctrl-C was pressed while the model was answering
        return reply("Now I will view the file", call("view_file", path="calc.py"))

    steps = [reply("", FIX), interrupting, reply("", call("submit", summary="done"))]
    session, model = open_session(buggy_repo, sandbox, steps, tmp_path)
    holder["session"] = session
    with session:
        events = list(session.start())
        final = events[-1]
        assert isinstance(final, RunFinished) and final.status == "interrupted"
        assert "session is kept" in final.message and "+    return a + b" in final.patch
        assert [e.name for e in events if isinstance(e, ToolStarted)][-1] == "edit_file"  # the view never ran
        resumed = list(session.follow_up("go on"))
        assert resumed[-1].status == "resolved"
        assert not any("Now I will view" in m.content for m in model.calls[-1])  # the cut-off reply was dropped
    model.assert_consumed()


def test_interrupt_between_calls_answers_the_skipped_ones(buggy_repo: Path, sandbox: Sandbox, tmp_path: Path) -> None:
    holder: dict[str, AgentSession] = {}

    def approve_then_interrupt(request: ApprovalRequested) -> str:
        holder["session"].interrupt()  # Ctrl-C while the first of three calls runs
        return "yes"

    steps = [reply("", call("bash", command="echo hi"), FIX, call("run_tests")),
             reply("", FIX), reply("", call("submit", summary="done"))]
    session, model = open_session(buggy_repo, sandbox, steps, tmp_path, approver=approve_then_interrupt,
                                  agent={"approval": "risky", "baseline_tests": False})
    holder["session"] = session
    with session:
        events = list(session.start())
        assert events[-1].status == "interrupted" and events[-1].patch == ""
        assert [e.name for e in events if isinstance(e, ToolStarted)] == ["bash"]
        assert list(session.follow_up("continue"))[-1].status == "resolved"
    history = model.calls[1]
    skipped = [m.tool_call_id for m in history if m.role == "tool" and m.content == "Not run: the user interrupted."]
    assert skipped == ["call_edit_file", "call_run_tests"]


def test_second_turn_while_busy_is_refused(buggy_repo: Path, sandbox: Sandbox, tmp_path: Path) -> None:
    gate, release = threading.Event(), threading.Event()

    def slow(messages: Sequence[Message]) -> ModelReply:
        gate.set()
        release.wait(30)
        return reply("", call("submit", summary="x"))

    steps = [slow, reply("", FIX), reply("", call("submit", summary="x"))]
    session, _ = open_session(buggy_repo, sandbox, steps, tmp_path, agent={"baseline_tests": False})
    with session:
        worker = threading.Thread(target=lambda: list(session.start()))
        worker.start()
        assert gate.wait(60)
        with pytest.raises(SessionBusy):
            list(session.follow_up("hurry"))
        release.set()
        worker.join(60)
    assert not session.alive
    with pytest.raises(SandboxError):
        list(session.follow_up("after close"))


def test_approval_no_then_always(buggy_repo: Path, sandbox: Sandbox, tmp_path: Path) -> None:
    answers = iter(["no", "always", "no"])
    asked: list[ApprovalRequested] = []

    def approver(request: ApprovalRequested) -> str:
        asked.append(request)
        return next(answers)

    steps = [reply("", call("bash", command="echo one > one.txt")),
             reply("", call("bash", command="echo two > two.txt")),
             reply("", call("bash", command="echo three > three.txt")),
             reply("", call("edit_file", path=".github/workflows/ci.yml", command="create", new="on: push\n")),
             reply("", FIX), reply("", call("submit", summary="done"))]
    session, model = open_session(buggy_repo, sandbox, steps, tmp_path, approver=approver,
                                  agent={"approval": "risky", "baseline_tests": False})
    with session:
        events = list(session.start())
    decided = [e.decision for e in events if isinstance(e, ApprovalDecided)]
    assert decided == ["no", "always", "no"]  # "always" covers bash only; the CI file write is asked about
    assert [r.reason for r in asked] == ["runs a shell command: echo one > one.txt",
                                         "runs a shell command: echo two > two.txt",
                                         "writes a hidden or CI file (.github/workflows/ci.yml)"]
    ran = [e.output for e in events if isinstance(e, ToolFinished) and e.name == "bash"]
    assert len(ran) == 2  # one declined, two approved (the second by "always")
    assert "declined" in model.calls[1][-1].content
    patch = events[-1].patch
    assert "one.txt" not in patch and "two.txt" in patch and "three.txt" in patch
    assert ".github/workflows/ci.yml" not in patch


# ---------------------------------------------------------------- preflight: tests that cannot run stop the run early

def _preflight_stops(events: list[Any]) -> RunFinished:
    final = events[-1]
    assert isinstance(final, RunFinished) and final.status == "error", final
    assert final.message.startswith(PREFIX) and final.steps == 0 and final.prompt_tokens == 0
    assert not any(isinstance(e, ToolStarted) for e in events)
    return final


def test_a_missing_third_party_package_stops_before_the_first_model_call(make_repo: Any, sandbox: Sandbox,
                                                                         sandbox_kind: str, tmp_path: Path) -> None:
    repo = make_repo({"calc.py": "import notinstalledpkg_zz\n\n\ndef add(a, b):\n    return a - b\n",
                      "tests/test_calc.py": "from calc import add\n\n\ndef test_add():\n    assert add(2, 3) == 5\n"})
    session, model = open_session(repo, sandbox, [], tmp_path)  # ScriptedModel([]) raises if it is ever called
    with session:
        events = list(session.start())
        assert not session.alive  # the sandbox is gone; a new task starts a fresh one
    final = _preflight_stops(events)
    assert "notinstalledpkg_zz" in final.message and "agent.baseline_tests = false" in final.message
    assert model.calls == []
    assert any(isinstance(e, TestsRan) and e.phase == "baseline" for e in events)  # the user sees what ran
    assert sandbox_leftovers(sandbox_kind) == []


def test_pytest_is_not_installed_never_reaches_the_model(make_repo: Any, tmp_path: Path) -> None:
    """The reported run: a pytest repo whose sandbox Python lacks pytest (here: the repo's own .venv, as the local
    sandbox now uses it). Before the check, unittest found 0 tests and the model was told so, five times."""
    import venv

    from coder.sandboxes.local import LocalSandbox

    repo = make_repo({".gitignore": ".venv/\n", "calc.py": "def add(a, b):\n    return a - b\n",
                      "tests/test_calc.py": "from calc import add\n\n\ndef test_add():\n    assert add(2, 3) == 5\n"})
    venv.create(repo / ".venv", with_pip=False)
    session, model = open_session(repo, LocalSandbox(), [], tmp_path)
    with session:
        events = list(session.start())
    final = _preflight_stops(events)
    assert "pytest is not installed" in final.message and "pip install pytest" in final.message
    assert model.calls == []
    assert "pytest is not installed" not in "".join(e.output for e in events if isinstance(e, ToolFinished))


def test_baseline_tests_false_is_the_escape_hatch(make_repo: Any, tmp_path: Path) -> None:
    from coder.sandboxes.local import LocalSandbox

    repo = make_repo({"calc.py": "import notinstalledpkg_zz\n", "tests/test_calc.py": "import calc\n\n\ndef test_a():\n    pass\n"})
    session, model = open_session(repo, LocalSandbox(), [reply("", call("submit", summary="looked"))] * 2,
                                  tmp_path, agent={"baseline_tests": False})
    with session:
        events = list(session.start())
    assert len(model.calls) == 2 and not events[-1].message.startswith(PREFIX)


def test_a_syntax_error_in_the_repository_is_the_agents_work(make_repo: Any, tmp_path: Path) -> None:
    from coder.sandboxes.local import LocalSandbox

    repo = make_repo({"calc.py": "def add(a, b)\n    return a + b\n",
                      "tests/test_calc.py": "from calc import add\n\n\ndef test_add():\n    assert add(2, 3) == 5\n"})
    fix = call("edit_file", path="calc.py", command="replace", old="def add(a, b)\n", new="def add(a, b):\n")
    session, model = open_session(repo, LocalSandbox(), [reply("", fix), reply("", call("submit", summary="fixed"))],
                                  tmp_path)
    with session:
        events = list(session.start())
    baseline = next(e for e in events if isinstance(e, TestsRan) and e.phase == "baseline")
    assert baseline.passed == 0 and baseline.errors >= 1  # every test errors, on the repository's own module
    assert events[-1].status == "resolved" and len(model.calls) == 2
