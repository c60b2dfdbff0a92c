"""The eval plan: one coder configuration per --strategy, each with its own label and its own harness."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

import pytest
from rich.console import Console

from coder.eval.cli import EvalUsageError, add_parser, build_plan
from coder.eval.harness import CoderHarness, GoldHarness
from coder.eval.jobs import EvalConfig
from coder.eval.plan import EvalPlan, make_harness
from conftest import CSV, TASKS_DIR, task


def test_without_strategies_coder_runs_the_configured_strategy_under_its_old_label(
        make_plan: Callable[..., EvalPlan], tmp_path: Path) -> None:
    plan = make_plan([task(CSV)], harnesses=["coder", "gold"])
    assert [c.key for c in plan.all_configs()] == ["coder/scripted", "gold/reference"]
    harness = make_harness(plan.all_configs()[0], plan, None, tmp_path)
    assert isinstance(harness, CoderHarness) and harness.config.agent == plan.config.agent


def test_each_strategy_is_its_own_configuration_with_its_own_harness(make_plan: Callable[..., EvalPlan],
                                                                    tmp_path: Path) -> None:
    plan = make_plan([task(CSV)], harnesses=["coder", "gold"], strategies=["guided", "tools"])
    configs = plan.all_configs()
    before = plan.config.agent.model_dump()
    assert [c.key for c in configs] == ["coder[guided]/scripted", "coder[tools]/scripted", "gold/reference"]
    assert len({c.slug for c in configs}) == 3 and configs[0].slug == "coder_guided_scripted"
    harnesses = [make_harness(c, plan, None, tmp_path / c.slug) for c in configs]
    assert [h.config.agent.strategy for h in harnesses[:2]] == ["guided", "tools"]  # type: ignore[attr-defined]
    assert isinstance(harnesses[2], GoldHarness)
    assert plan.config.agent.model_dump() == before  # the plan's own configuration is left as it was
    assert all(h.config.agent.observation_cap == plan.config.agent.observation_cap  # type: ignore[attr-defined]
               for h in harnesses[:2])


def test_the_strategy_is_in_the_key_only_when_chosen() -> None:
    assert EvalConfig("coder", "m").key == "coder/m" and EvalConfig("coder", "m", None) == EvalConfig("coder", "m")
    assert EvalConfig("coder", "m", "auto").key == "coder[auto]/m"


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_parser(parser.add_subparsers(dest="command"))
    return parser.parse_args(["eval", str(TASKS_DIR), "--tasks", CSV, "--sandbox", "local", *argv])


def test_strategy_is_repeatable_on_the_command_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no configuration file of this checkout applies
    console = Console(file=None, stderr=True)
    plan = build_plan(parse("--strategy", "guided", "--strategy", "tools", "--strategy", "guided",
                            "--model", "a", "--model", "b", "--base-url", "http://127.0.0.1:9/v1",
                            "--out", str(tmp_path / "out")), console)
    assert plan.strategies == ["guided", "tools"]
    assert [c.key for c in plan.all_configs()] == ["coder[guided]/a", "coder[tools]/a", "coder[guided]/b",
                                                   "coder[tools]/b"]
    assert build_plan(parse("--out", str(tmp_path / "out")), console).strategies == [None]
    with pytest.raises(EvalUsageError, match="--strategy chooses coder's strategy"):
        build_plan(parse("--no-coder", "--compare", "gold", "--strategy", "guided"), console)
