"""The agent's wall-time limit holds while it waits for a real OpenAI client (scripted server, local sandbox)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from coder.agent import Agent
from coder.config import Config
from coder.events import LimitReached, RunFinished
from coder.models.config import ModelConfig
from coder.models.openai_compat import OpenAICompatModel
from coder.sandboxes.local import LocalSandbox
from coder.task import Task
from fake_openai_server import FakeOpenAIServer, text_stream

LIMIT = 10


@pytest.mark.parametrize("stream", [False, True], ids=["complete", "stream"])
def test_slow_reply_ends_the_run_at_its_wall_time_limit(buggy_repo: Path, tmp_path: Path, stream: bool) -> None:
    """Before, the agent checked its limits only between steps: a reply that took 6 minutes overshot a 5-minute run."""
    server = FakeOpenAIServer().start()
    if stream:  # a reply that keeps coming, a word every half second, for 30 s
        server.stream(text_stream(["word "] * 60), delay=0.5)
    else:
        server.slow(delay=30.0)
    model = OpenAICompatModel(ModelConfig(base_url=server.base_url, timeout=60, max_retries=2))
    # 10 s: the sandbox start and the baseline tests before the first model call took 3.5 s on a slow 2-core machine
    config = Config.model_validate({"limits": {"max_wall_seconds": LIMIT}, "agent": {"stream": stream}})
    agent = Agent(model, LocalSandbox(), config, trajectory_dir=tmp_path / "traj")
    start = time.monotonic()
    try:
        events = list(agent.run(Task(repo=buggy_repo, issue="add() returns the wrong result")))
    finally:
        model.close()
        server.stop()
    assert time.monotonic() - start < LIMIT + 12
    final = events[-1]
    assert isinstance(final, RunFinished)
    assert final.status == "limit_reached", final.message
    assert "wall_time limit reached" in final.message and "while waiting for the model" in final.message
    limits = [e for e in events if isinstance(e, LimitReached)]
    assert [(e.limit, e.maximum) for e in limits] == [("wall_time", LIMIT)]
    assert len(server.requests) == 1
