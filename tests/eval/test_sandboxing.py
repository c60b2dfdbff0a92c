"""Where eval runs happen: the engine DOCKER_HOST names (or the local sandbox, with a warning), and a task's setup
command baked into its Docker image or committed into its local checkout, ignored outputs included."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from coder.config import ConfigError, SandboxConfig
from coder.eval.plan import EvalPlan
from coder.eval.runner import Evaluation
from coder.eval.sandboxing import DEFAULT_TOOLCHAIN, plan_sandboxes
from coder.eval.tasks import from_task_dir
from conftest import RecordingDisplay

CALC = "from pathlib import Path\n\n\ndef answer():\n    return int(Path('build/answer.txt').read_text()) - 1\n"
TEST = "from calc import answer\n\n\ndef test_answer():\n    assert answer() == 42\n\n\ndef test_truth():\n    assert True\n"


def test_docker_host_is_honoured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", "tcp://127.0.0.1:9")  # nothing listens there
    with pytest.raises(ConfigError, match="no Docker engine is reachable"):
        plan_sandboxes(SandboxConfig(kind="docker"), None)
    plan, warning = plan_sandboxes(SandboxConfig(kind="auto"), None)
    assert plan.kind == "local" and "falling back to the local sandbox" in (warning or "")
    assert plan_sandboxes(SandboxConfig(kind="local"), None) == (plan, None)


@pytest.fixture
def setup_task(tmp_path: Path) -> Path:
    """A task whose tests need build/answer.txt, which only its setup command makes (and .gitignore ignores)."""
    task_dir = tmp_path / "tasks" / "needs-setup"
    (task_dir / "repo" / "tests").mkdir(parents=True)
    (task_dir / "repo" / "calc.py").write_text(CALC)
    (task_dir / "repo" / "tests" / "test_calc.py").write_text(TEST)
    (task_dir / "repo" / ".gitignore").write_text("build/\n")
    (task_dir / "task.yaml").write_text(
        "id: needs-setup\nlanguage: python\nissue: answer() is one short\n"
        "setup: mkdir -p build && echo 42 > build/answer.txt\n"
        "fail_to_pass: ['tests/test_calc.py::test_answer']\npass_to_pass: ['tests/test_calc.py::test_truth']\n")
    fix = ("diff --git a/calc.py b/calc.py\n--- a/calc.py\n+++ b/calc.py\n@@ -5 +5 @@ def answer():\n"
           "-    return int(Path('build/answer.txt').read_text()) - 1\n"
           "+    return int(Path('build/answer.txt').read_text())\n")
    (task_dir / "fix.patch").write_text(fix)
    return task_dir


def test_setup_runs_in_the_local_checkout(setup_task: Path, make_plan: Callable[..., EvalPlan]) -> None:
    plan = make_plan([from_task_dir(setup_task)], harnesses=["gold"])
    (record,) = Evaluation(plan, RecordingDisplay()).run().records
    assert record.resolved and record.error is None, record


@pytest.mark.docker
def test_setup_is_baked_into_the_tasks_docker_image(setup_task: Path, make_plan: Callable[..., EvalPlan],
                                                    docker_images: dict[str, str]) -> None:
    sandbox, _ = plan_sandboxes(SandboxConfig(kind="docker", image=docker_images["plain"]), DEFAULT_TOOLCHAIN)
    plan = make_plan([from_task_dir(setup_task)], harnesses=["gold"], sandbox=sandbox)
    (record,) = Evaluation(plan, RecordingDisplay()).run().records
    assert (record.resolved, record.error, record.sandbox) == (True, None, "docker"), record
    assert sandbox.images["needs-setup"].startswith("coder-setup:")
