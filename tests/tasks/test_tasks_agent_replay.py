"""Each task's scripted solution, replayed through the real agent loop on both sandboxes, flips its tests fail->pass."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from coder.agent import Agent
from coder.config import Config
from coder.eval.taskspec import checkout, load_solution, load_task, task_dirs
from coder.events import RunFinished, ToolCallRejected
from coder.models.base import ModelReply
from coder.sandboxes.base import Sandbox
from coder.task import Task
from coder.testing import ScriptedModel, call, reply
from repo_helpers import tree_snapshot

TASKS = task_dirs(Path(__file__).resolve().parents[2] / "tasks")
TOOLCHAIN = {"javascript": "node", "go": "go"}


def scripted_replies(task_dir: Path) -> list[ModelReply]:
    solution = load_solution(task_dir)
    calls = [call(c["name"], f"call_{i}", **c["arguments"]) for i, c in enumerate(solution.calls)]
    plan = "\n".join(f"{n}. {step}" for n, step in enumerate(solution.plan, 1))
    return [reply(plan, calls[0])] + [reply("", c) for c in calls[1:]]


@pytest.mark.slow
@pytest.mark.parametrize("task_dir", TASKS, ids=[t.name for t in TASKS])
def test_scripted_solution_resolves_task(task_dir: Path, tmp_path: Path, sandbox: Sandbox) -> None:
    spec = load_task(task_dir)
    tool = TOOLCHAIN.get(spec.language)
    if tool and shutil.which(tool) is None:
        pytest.skip(f"{tool} is not installed")
    repo = checkout(task_dir, tmp_path / "repo")
    before = tree_snapshot(repo)
    model = ScriptedModel(scripted_replies(task_dir))
    agent = Agent(model, sandbox, Config(), trajectory_dir=tmp_path / "traj")
    events = list(agent.run(Task(repo=repo, issue=spec.issue, test_command=spec.test_command)))
    model.assert_consumed()
    final = events[-1]
    assert isinstance(final, RunFinished)
    assert final.status == "resolved", final.message
    assert not [e for e in events if isinstance(e, ToolCallRejected)]
    assert set(spec.fail_to_pass) <= set(final.fail_to_pass)
    assert not set(spec.pass_to_pass) & set(final.pass_to_fail)
    assert final.patch.strip()
    assert tree_snapshot(repo) == before
