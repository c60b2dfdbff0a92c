"""The real agent loop driven by a scripted model on a real sandbox: events, limits, repeats, malformed calls."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

from coder.agent import Agent
from coder.config import Config
from coder.events import (
    FileEdited,
    HintGiven,
    LimitReached,
    ModelReplied,
    PlanUpdated,
    RunFinished,
    TestsRan,
    ToolCallRejected,
    ToolFinished,
)
from coder.models.base import Message, ModelError, ModelReply, ToolCall
from coder.sandboxes.base import Sandbox
from coder.task import Task
from coder.testing import ScriptedModel, call, reply
from repo_helpers import sandbox_leftovers, tree_snapshot

FIX = call("edit_file", path="calc.py", command="replace", old="return a - b", new="return a + b")
CURRENT: dict[str, Any] = {}


@pytest.fixture(autouse=True)
def _every_sandbox(sandbox: Sandbox, sandbox_kind: str) -> None:
    """Every test here runs once on the local sandbox and once on Docker (the agent must not care)."""
    CURRENT["sandbox"], CURRENT["kind"] = sandbox, sandbox_kind


def run_agent(repo: Path, steps: list[Any], tmp_path: Path, **overrides: Any) -> tuple[list[Any], ScriptedModel, Path]:
    """(events, model, trajectory path) of one run."""
    config = Config.model_validate(overrides)
    model = ScriptedModel(steps)
    agent = Agent(model, CURRENT["sandbox"], config, trajectory_dir=tmp_path / "traj")
    with agent.session(Task(repo=repo, issue="add() returns the wrong result")) as session:
        events = list(session.start())
    return events, model, session.trajectory_path


def of(events: list[Any], kind: type) -> list[Any]:
    return [e for e in events if isinstance(e, kind)]


def last_observation(model: ScriptedModel, call_index: int) -> str:
    """The last message sent to the model on its CALL_INDEX-th call."""
    return model.calls[call_index][-1].content


def test_full_fix_resolves_and_reports_fail_to_pass(buggy_repo: Path, tmp_path: Path) -> None:
    before = tree_snapshot(buggy_repo)
    steps = [
        reply("Plan:\n1. Read calc.py\n2. Fix add\n3. Run the tests", call("view_file", path="calc.py")),
        reply("", FIX),
        reply("", call("run_tests")),
        reply("", call("submit", summary="add now adds")),
    ]
    events, model, trajectory = run_agent(buggy_repo, steps, tmp_path)
    model.assert_consumed()
    final = events[-1]
    assert isinstance(final, RunFinished)
    assert final.status == "resolved", final.message
    assert final.fail_to_pass == ("tests/test_calc.py::test_add",)
    assert final.still_failing == () and final.pass_to_fail == ()
    assert "+    return a + b" in final.patch and final.summary == "add now adds"
    assert of(events, PlanUpdated)[0].steps == ("Read calc.py", "Fix add", "Run the tests")
    assert [e.path for e in of(events, FileEdited)] == ["calc.py"]
    assert [e.phase for e in of(events, TestsRan)] == ["baseline", "step", "final"]
    assert final.steps == 4 and final.prompt_tokens == 400
    assert all(t is not None and 0 < t <= 1800 for t in model.timeouts_seen)  # each call knows the run's time left
    assert tree_snapshot(buggy_repo) == before  # the user's repo is untouched

    records = [json.loads(line) for line in trajectory.read_text().splitlines()]
    kinds = {r["kind"] for r in records}
    assert kinds == {"event", "request", "response"}
    first_request = next(r for r in records if r["kind"] == "request")
    assert first_request["messages"][0]["role"] == "system" and "edit_file" in first_request["tools"]
    assert records[-1]["event"]["type"] == "run_finished"


def test_tool_schemas_are_sent_and_system_prompt_has_agents_md(make_repo: Any, tmp_path: Path) -> None:
    # a test file: a repository whose tests cannot be found stops before the model (coder/envs/preflight.py)
    repo = make_repo({"AGENTS.md": "Always use tabs.\n", "a.py": "x = 1\n",
                      "test_a.py": "import unittest\n\n\nclass T(unittest.TestCase):\n    def test_x(self):\n        pass\n"})
    events, model, _ = run_agent(repo, [reply("1. nothing to do", call("submit"))], tmp_path)
    assert "Always use tabs." in model.calls[0][0].content
    assert {"view_file", "edit_file", "grep", "run_tests", "bash", "submit", "update_plan"} <= set(model.tools_seen[0])


def test_malformed_unknown_and_invalid_calls_go_back_as_observations(buggy_repo: Path, tmp_path: Path) -> None:
    steps = [
        reply("1. try things", ToolCall("c1", "view_file", {}, raw="{", parse_error="Expecting value")),
        reply("", call("teleport", where="mars")),
        reply("", call("view_file", path="calc.py", colour="blue")),
        "I think the bug is in add.",  # no tool call at all
        reply("", FIX),
        reply("", call("submit")),
    ]
    events, model, _ = run_agent(buggy_repo, steps, tmp_path)
    model.assert_consumed()
    rejected = of(events, ToolCallRejected)
    assert [r.name for r in rejected] == ["view_file", "teleport", "view_file", ""]
    assert "could not be read" in last_observation(model, 1)
    assert "Unknown tool 'teleport'" in last_observation(model, 2) and "view_file" in last_observation(model, 2)
    assert "colour" in last_observation(model, 3)
    assert "did not contain a tool call" in last_observation(model, 4)
    assert events[-1].status == "resolved"


@pytest.mark.parametrize(
    "text",
    [
        '<tool_call>\n{"name": "edit_file", "arguments": {"path": "calc.py", "command": "replace", "old": "return a - b", "new": "return a + b"}}\n</tool_call>',
        '```json\n{"name": "edit_file", "arguments": {"path": "calc.py", "command": "replace", "old": "return a - b", "new": "return a + b"}}\n```',
        "<tool_call>\n<function=edit_file>\n<parameter=path>calc.py</parameter>\n<parameter=command>replace</parameter>\n"
        "<parameter=old>return a - b</parameter>\n<parameter=new>return a + b</parameter>\n</function>\n</tool_call>",
    ],
    ids=["hermes", "fenced-json", "qwen3-xml"],
)
def test_text_tool_calls_are_executed(buggy_repo: Path, tmp_path: Path, text: str) -> None:
    events, _, _ = run_agent(buggy_repo, [text, reply("", call("submit"))], tmp_path)
    assert events[-1].status == "resolved", events[-1].message
    assert not of(events, ToolCallRejected)


def test_repeated_failing_call_gets_a_hint_then_gives_up(buggy_repo: Path, tmp_path: Path) -> None:
    bad = call("edit_file", path="calc.py", command="replace", old="return a * 7", new="x")
    events, model, _ = run_agent(buggy_repo, [reply("", bad)] * 4, tmp_path)
    model.assert_consumed()
    assert len(of(events, HintGiven)) >= 1
    assert "same call" in last_observation(model, 2)
    assert events[-1].status == "stuck"
    assert of(events, TestsRan)[-1].phase == "final"  # tests still run before finishing


def test_same_failing_edit_between_views_is_caught(buggy_repo: Path, tmp_path: Path) -> None:
    """The 1.5B model alternated one failing edit_file with one view_file for 10 steps; identical calls were never
    consecutive, so no hint came. The same call getting the same error with nothing changed in between counts."""
    bad = call("edit_file", path="calc.py", command="replace", old="    # This is a comment\n    pass\n", new="x")
    view = call("view_file", path="calc.py")
    events, model, _ = run_agent(buggy_repo, [reply("", view), reply("", bad)] * 4, tmp_path)
    model.assert_consumed()
    assert events[-1].status == "stuck", events[-1].message
    assert [h.reason for h in of(events, HintGiven)] == [
        "edit_file repeated 2 times with the same result; withheld from the next reply",
        "view_file repeated 3 times with the same result; withheld from the next reply",
        "edit_file repeated 3 times with the same result; withheld from the next reply",
        "view_file repeated 4 times with the same result; withheld from the next reply",
    ]
    assert "got the same error each time; nothing changed in between" in last_observation(model, 4)


def test_repeated_tests_between_real_edits_are_not_repeats(buggy_repo: Path, tmp_path: Path) -> None:
    steps: list[Any] = []
    for n in range(4):
        steps += [reply("", call("run_tests")), reply("", call("edit_file", path="calc.py", command="insert", line=0,
                                                                new=f"# attempt {n}\n"))]
    events, model, _ = run_agent(buggy_repo, steps + [reply("", FIX), reply("", call("submit"))], tmp_path)
    model.assert_consumed()
    assert events[-1].status == "resolved", events[-1].message
    assert not of(events, HintGiven)


def test_repeated_call_is_withheld_from_the_next_reply_only(buggy_repo: Path, tmp_path: Path) -> None:
    """The 0.5B model called update_plan with the same steps until it was stopped: after the hint, the next reply
    may not call that tool (narrowed, the full tool list still sent), and the reply after it may again."""
    plan = call("update_plan", steps=["Find the bug", "Fix it"])
    steps = [reply("", plan)] * 3 + [reply("", FIX), reply("", plan), reply("", call("submit"))]
    events, model, trajectory = run_agent(buggy_repo, steps, tmp_path)
    model.assert_consumed()
    assert events[-1].status == "resolved", events[-1].message
    hints = of(events, HintGiven)
    assert [h.reason for h in hints] == ["update_plan repeated 3 times; withheld from the next reply"]
    everything = model.tools_seen[0]
    assert all(seen == everything for seen in model.tools_seen)  # the prompt's tool list never changes
    assert model.allowed_seen == [None, None, None, sorted(set(everything) - {"update_plan"}), None, None]
    assert "update_plan tool is unavailable for your next reply" in last_observation(model, 3)
    records = [json.loads(line) for line in trajectory.read_text().splitlines()]
    requests = [r for r in records if r.get("kind") == "request"]
    assert [("allowed" in r) for r in requests] == [False, False, False, True, False, False]


def test_text_format_tools_are_not_narrowed(buggy_repo: Path, tmp_path: Path) -> None:
    plan = call("update_plan", steps=["Find the bug"])
    steps = [reply("", plan)] * 3 + [reply("", FIX), reply("", call("submit"))]
    events, model, _ = run_agent(buggy_repo, steps, tmp_path, agent={"tool_format": "text"})
    model.assert_consumed()
    assert model.allowed_seen == [None] * 5
    assert of(events, HintGiven)[0].reason == "update_plan repeated 3 times"
    assert "unavailable" not in last_observation(model, 3)


def test_step_limit(buggy_repo: Path, tmp_path: Path) -> None:
    steps = [reply("", call("view_file", path="calc.py", start_line=i + 1)) for i in range(2)]
    events, _, _ = run_agent(buggy_repo, steps, tmp_path, limits={"max_steps": 2})
    assert of(events, LimitReached)[0].limit == "steps"
    assert events[-1].status == "limit_reached"


def test_token_limit(buggy_repo: Path, tmp_path: Path) -> None:
    steps = [reply("", call("view_file", path="calc.py"), prompt_tokens=600)]
    events, _, _ = run_agent(buggy_repo, steps, tmp_path, limits={"max_tokens": 500})
    assert of(events, LimitReached)[0].limit == "tokens"


def test_wall_time_limit(buggy_repo: Path, tmp_path: Path) -> None:
    steps = [reply("", call("bash", command="sleep 0.3"))]
    events, _, _ = run_agent(buggy_repo, steps, tmp_path, limits={"max_wall_seconds": 0.2}, agent={"baseline_tests": False})
    assert of(events, LimitReached)[0].limit == "wall_time"


def test_long_output_is_elided_head_and_tail(buggy_repo: Path, tmp_path: Path) -> None:
    steps = [reply("", call("bash", command="seq 1 100000")), reply("", FIX), reply("", call("submit"))]
    events, model, _ = run_agent(buggy_repo, steps, tmp_path, agent={"observation_cap": 1000})
    assert len(model.calls) >= 2, f"the run ended early: {events[-1]}"
    seen = last_observation(model, 1)
    assert "elided" in seen and seen.startswith("1\n") and "100000" in seen and len(seen) < 1500


def test_submit_with_failing_tests_is_pushed_back_once(buggy_repo: Path, tmp_path: Path) -> None:
    steps = [reply("", call("submit")), reply("", call("submit"))]
    events, model, _ = run_agent(buggy_repo, steps, tmp_path)
    assert "still fail" in last_observation(model, 1)
    assert events[-1].status == "not_resolved"
    assert events[-1].still_failing == ("tests/test_calc.py::test_add",)


def test_model_error_ends_the_run_cleanly(buggy_repo: Path, tmp_path: Path) -> None:
    def boom(messages: Any) -> ModelReply:
        raise ModelError("cannot reach model endpoint http://127.0.0.1:9/v1: connection refused")

    before = tree_snapshot(buggy_repo)
    events, _, _ = run_agent(buggy_repo, [reply("", call("view_file", path="calc.py")), boom], tmp_path)
    assert events[-1].status == "error" and "connection refused" in events[-1].message
    assert tree_snapshot(buggy_repo) == before


def test_interrupt_mid_run_cleans_up(buggy_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TMPDIR", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)

    def interrupt(messages: Any) -> ModelReply:
        raise KeyboardInterrupt

    before = tree_snapshot(buggy_repo)
    events, _, _ = run_agent(buggy_repo, [reply("", FIX), interrupt], tmp_path)
    assert events[-1].status == "interrupted"
    assert tree_snapshot(buggy_repo) == before
    assert sandbox_leftovers(CURRENT["kind"], tmp_path / "tmp") == []  # the sandbox is gone


def test_update_plan_emits_revision(buggy_repo: Path, tmp_path: Path) -> None:
    steps = [reply("1. look", call("update_plan", steps=["fix add", "test"])), reply("", FIX), reply("", call("submit"))]
    events, _, _ = run_agent(buggy_repo, steps, tmp_path)
    plans = of(events, PlanUpdated)
    assert [p.revision for p in plans] == [1, 2] and plans[1].steps == ("fix add", "test")


def test_scripted_model_fails_loudly(buggy_repo: Path, tmp_path: Path) -> None:
    from coder.testing import ScriptError

    with pytest.raises(ScriptError, match="ran out"):
        run_agent(buggy_repo, [reply("", call("view_file", path="calc.py"))], tmp_path, limits={"max_steps": 5})
    model = ScriptedModel([reply("x"), reply("y")])
    model.complete([Message("user", "hi")], [])
    with pytest.raises(ScriptError, match="unconsumed"):
        model.assert_consumed()


def test_events_are_frozen(buggy_repo: Path, tmp_path: Path) -> None:
    events, _, _ = run_agent(buggy_repo, [reply("", call("submit"))] * 2, tmp_path, agent={"baseline_tests": False})
    with pytest.raises(dataclasses.FrozenInstanceError):
        events[0].task = "x"  # type: ignore[misc]
    assert all(isinstance(e.type, str) for e in events)
    assert of(events, ModelReplied) and of(events, ToolFinished)


def test_text_tool_format_when_the_server_refuses_native_tools(buggy_repo: Path, tmp_path: Path) -> None:
    model = ScriptedModel([reply("1. fix", FIX), reply("", call("submit"))], sends_tools=False)
    agent = Agent(model, CURRENT["sandbox"], Config(), trajectory_dir=tmp_path / "traj")
    events = list(agent.run(Task(repo=buggy_repo, issue="add() subtracts")))
    assert events[-1].status == "resolved"
    assert model.tools_seen[0] == []  # no schemas through the API...
    system = model.calls[0][0].content
    assert "<tool_call>" in system and "edit_file" in system  # ...they are described in the prompt


def test_a_workspace_that_cannot_be_recorded_is_told_to_the_model_and_the_run_goes_on(
    buggy_repo: Path, tmp_path: Path
) -> None:
    """A failed snapshot (disk, memory or inodes ran out: here the git object store is gone) ended the whole run as a
    sandbox error and lost the patch; the step now has no undo point, the model is told once, and the run goes on."""
    hide = call("bash", "c1", command="mv .git/objects .git/objects-away")
    probe = call("bash", "c2", command="true")
    back = call("bash", "c3", command="mv .git/objects-away .git/objects")
    steps = [reply("", hide), reply("", probe), reply("", back), reply("", FIX), reply("", call("submit", summary="fixed"))]
    events, model, _ = run_agent(buggy_repo, steps, tmp_path)
    model.assert_consumed()
    hints = [h for h in of(events, HintGiven) if "snapshot failed" in h.reason]
    assert len(hints) == 1 and hints[0].step == 2, of(events, HintGiven)  # told once, not at every failing step
    assert "could not be recorded before this step" in last_observation(model, 1)
    finished = events[-1]
    assert isinstance(finished, RunFinished) and finished.status == "resolved", finished
    assert "a + b" in finished.patch


def test_a_tool_not_offered_is_neither_listed_nor_callable(buggy_repo: Path, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """Tools with offered=False are for coder's own strategies: the model never sees them and cannot call them."""
    from coder.agent import agent as agent_module
    from coder_tools.base import ToolArgs, ToolResult, ToolSpec
    from coder_tools.registry import all_tools

    ran: list[str] = []

    def hidden(args: ToolArgs, ws: Any) -> ToolResult:
        ran.append("hidden")
        return ToolResult(ok=True, output="")

    tools = {**all_tools(), "hidden": ToolSpec("hidden", "internal", ToolArgs, hidden, offered=False)}
    monkeypatch.setattr(agent_module, "all_tools", lambda: tools)
    events, model, _ = run_agent(buggy_repo, [reply("", call("hidden")), reply("", FIX), reply("", call("submit"))],
                                 tmp_path)
    assert "hidden" not in model.tools_seen[0] and "bash" in model.tools_seen[0]
    assert [e.reason for e in of(events, ToolCallRejected)][0].startswith("Unknown tool 'hidden'")
    assert ran == [] and events[-1].status == "resolved"
