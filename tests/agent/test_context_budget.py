"""The context budget: oldest tool outputs are elided first, and a request that cannot fit stops the run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from coder.agent import Agent
from coder.agent.context_budget import ELIDED, ContextBudget
from coder.config import Config
from coder.events import LimitReached
from coder.models.base import Message
from coder.sandboxes.local import LocalSandbox
from coder.task import Task
from coder.testing import ScriptedModel, call, reply


class CharCounter:
    """One token per character: easy to reason about."""

    exact = True

    def count(self, text: str) -> int:
        return len(text)


def conversation(outputs: int, size: int) -> list[Message]:
    messages = [Message("system", "s" * 50), Message("user", "u" * 50)]
    for i in range(outputs):
        messages.append(Message("assistant", "", tool_calls=(call("bash", f"c{i}", command="x"),)))
        messages.append(Message("tool", "o" * size, tool_call_id=f"c{i}"))
    return messages


def test_oldest_outputs_are_elided_first() -> None:
    budget = ContextBudget(window=2200, counter=CharCounter(), tools=[], reserve=200)
    messages = conversation(4, 600)
    fitted, size, elided = budget.fit(messages)
    assert size <= budget.limit and elided >= 1
    tool_contents = [m.content for m in fitted if m.role == "tool"]
    assert tool_contents[0] == ELIDED and tool_contents[-1] == "o" * 600  # newest kept
    assert fitted[0] == messages[0] and fitted[1] == messages[1]


def test_nothing_changes_when_it_fits() -> None:
    budget = ContextBudget(window=100_000, counter=CharCounter(), tools=[{"x": 1}], reserve=1000)
    messages = conversation(3, 100)
    assert budget.fit(messages) == (messages, budget.size(messages), 0)


def test_agent_stops_when_even_the_latest_exchange_does_not_fit(buggy_repo: Path, tmp_path: Path) -> None:
    model = ScriptedModel([reply("1. look", call("bash", command="seq 1 20000")), reply("", call("submit"))] * 2,
                          context_window=3000, token_counter=CharCounter())
    config = Config.model_validate({"agent": {"baseline_tests": False, "observation_cap": 20000}})
    agent = Agent(model, LocalSandbox(), config, trajectory_dir=tmp_path / "traj")
    events = list(agent.run(Task(repo=buggy_repo, issue="add() subtracts")))
    limits = [e for e in events if isinstance(e, LimitReached)]
    assert limits and limits[0].limit == "context"
    assert events[-1].status == "limit_reached" and "context window" in events[-1].message


def test_tools_are_not_counted_twice_after_the_server_refuses_native_tools(buggy_repo: Path, tmp_path: Path) -> None:
    """When the server refuses native tools mid-run, the loop describes the tools in the system prompt. The budget was
    sized once with the native schemas and kept counting them, so the tools were counted twice and a conversation
    that fits was stopped as too large for the context window."""
    import json

    from coder.models.tokens import count_messages
    from coder_tools.registry import tool_schemas

    def script(model_box: list[ScriptedModel]) -> list[Any]:
        def refuse_native_tools(_messages: Any) -> Any:
            model_box[0].sends_tools = False  # what OpenAICompatModel does when the server rejects `tools`
            return reply("1. plan", call("update_plan", steps=["fix"]))
        return [refuse_native_tools, reply("", call("submit")), reply("", call("submit"))]  # pushed back once

    def run(window: int) -> tuple[list[Any], ScriptedModel]:
        box: list[ScriptedModel] = []
        model = ScriptedModel(script(box), context_window=window, token_counter=CharCounter(), max_reply_tokens=100)
        box.append(model)
        config = Config.model_validate({"agent": {"baseline_tests": False}})
        agent = Agent(model, LocalSandbox(), config, trajectory_dir=tmp_path / "traj")
        return list(agent.run(Task(repo=buggy_repo, issue="add() subtracts"))), model

    _, spy = run(10**9)
    counter = CharCounter()
    tools = counter.count(json.dumps(tool_schemas()))
    native = tools + count_messages(counter, [m.to_openai() for m in spy.calls[0]])
    text = count_messages(counter, [m.to_openai() for m in spy.calls[1]])  # the tools are in its system prompt
    window = text + tools // 2 + 100  # the text-format request fits; counting the schemas again would not
    assert native <= window - 100, "precondition: the first (native) request fits too"
    events, model = run(window)
    assert not [e for e in events if isinstance(e, LimitReached)], [e for e in events if isinstance(e, LimitReached)]
    assert events[-1].status != "limit_reached" and model.remaining == 0
