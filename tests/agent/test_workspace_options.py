"""What the tool server is told at start: the configuration wins over the task's own test command and test timeout."""

from __future__ import annotations

from pathlib import Path

from coder.agent.sandbox_check import workspace_options
from coder.config import Config
from coder.task import Task


def test_config_wins_over_the_tasks_test_command_and_timeout(tmp_path: Path) -> None:
    task = Task(repo=tmp_path, test_command="pytest -q", test_timeout=7)
    own = workspace_options(Config(), task)
    assert (own.test_command, own.test_timeout) == ("pytest -q", 7)
    configured = workspace_options(Config.model_validate({"tests": {"command": "make test", "timeout": 3},
                                                          "sandbox": {"bash_timeout": 99}}), task)
    assert (configured.test_command, configured.test_timeout, configured.bash_timeout) == ("make test", 3, 99)
    assert workspace_options(Config(), Task(repo=tmp_path)).test_timeout is None
