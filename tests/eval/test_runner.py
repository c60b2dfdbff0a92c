"""The eval end to end on real tasks: scripted models drive the real agent in real local sandboxes, a fresh sandbox
grades each patch, results are recorded, resumed and rerun."""

from __future__ import annotations

import ast
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from coder.config import GuidedConfig
from coder.eval import ray_backend, runner
from coder.eval.jobs import EvalConfig
from coder.eval.plan import EvalPlan
from coder.eval.report import write_reports
from coder.eval.results import ResultStore, RunRecord
from coder.eval.runner import Evaluation
from coder.eval.tasks import EvalTask
from coder.models.base import ModelReply
from coder.testing import call, reply
from conftest import CSV, PAGINATOR, SLUGIFY, RecordingDisplay, edit_replies, scripted_factory, solution_replies, task

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def has_matplotlib() -> bool:
    import importlib.util

    return importlib.util.find_spec("matplotlib") is not None


def test_eval_grades_resolved_unresolved_and_broken_runs(make_plan: Callable[..., EvalPlan],
                                                         display: RecordingDisplay) -> None:
    breaks_exact_multiples = lambda t, run: edit_replies("        return self.count // self.per_page + 1\n")  # noqa: E731
    factory = scripted_factory({PAGINATOR: breaks_exact_multiples})
    plan = make_plan([task(CSV), task(PAGINATOR), task(SLUGIFY)], workers=2, model_factory=factory)
    outcome = Evaluation(plan, display).run()

    assert not outcome.interrupted and outcome.ran == 3 and outcome.skipped == 0
    by_task = {r.task: r for r in outcome.records}
    assert {t: r.resolved for t, r in by_task.items()} == {CSV: True, PAGINATOR: False, SLUGIFY: True}
    assert all(r.error is None and r.config == "coder/scripted" and r.sandbox == "local" for r in outcome.records)
    broken = by_task[PAGINATOR]
    assert broken.grade.patch_applied and set(broken.grade.fail_to_pass.values()) == {"passed"}
    assert broken.grade.pass_to_pass["tests/test_paginator.py::test_exact_multiple"] == "failed"
    assert broken.status == "not_resolved" and "+ 1" in broken.patch
    good = by_task[CSV]
    assert good.status == "resolved" and good.patch.startswith("diff --git")
    assert good.steps == len(solution_replies(Path(task(CSV).task_dir or ""))) and good.malformed_calls == 0
    assert good.prompt_tokens == 100 * good.steps and good.completion_tokens == 20 * good.steps
    assert good.wall_seconds > 0 and good.grade.seconds > 0 and Path(good.trajectory or "").is_file()
    for model in factory.made:  # type: ignore[attr-defined]
        model.assert_consumed()

    lines = (plan.out / "results.jsonl").read_text().splitlines()
    assert sorted(json.loads(line)["task"] for line in lines) == sorted([CSV, PAGINATOR, SLUGIFY])
    assert display.total == 3 and len(display.finished_records) == 3 and display.stopped
    assert {k for k, _ in display.steps} == {("coder/scripted", t, 0) for t in (CSV, PAGINATOR, SLUGIFY)}

    written = write_reports(plan.out, plan.tasks, plan.all_configs(), outcome.records, plan.runs)
    summary = written["summary"].read_text()
    assert "| coder/scripted | 2/3 | 67% |" in summary
    assert f"| {PAGINATOR} | python | easy | ✗ " in summary and f"| {SLUGIFY} | javascript | easy | ✓ " in summary
    assert ("plot" in written) == has_matplotlib()
    predictions = [json.loads(line) for line in (plan.out / "predictions" / "coder_scripted.jsonl").read_text().splitlines()]
    assert {p["instance_id"] for p in predictions} == {CSV, PAGINATOR, SLUGIFY}
    assert all(set(p) == {"instance_id", "model_name_or_path", "model_patch"} for p in predictions)
    assert {p["instance_id"]: p["model_patch"] for p in predictions}[CSV] == good.patch


def test_resume_skips_finished_runs_and_redo_reruns_them(make_plan: Callable[..., EvalPlan],
                                                         display: RecordingDisplay) -> None:
    first = make_plan([task(PAGINATOR), task(CSV)], harnesses=["gold"])
    assert Evaluation(first, display).run().ran == 2

    again = make_plan([task(PAGINATOR), task(CSV)], harnesses=["gold"])
    watcher = RecordingDisplay()
    outcome = Evaluation(again, watcher).run()
    assert (outcome.ran, outcome.skipped, watcher.total, watcher.started_jobs) == (0, 2, 0, [])
    assert [r.resolved for r in outcome.records] == [True, True]

    redo = make_plan([task(PAGINATOR)], harnesses=["gold"], redo=True)
    watcher = RecordingDisplay()
    outcome = Evaluation(redo, watcher).run()
    assert (outcome.ran, outcome.skipped, len(watcher.started_jobs)) == (1, 0, 1)
    assert len((redo.out / "results.jsonl").read_text().splitlines()) == 3
    assert len(ResultStore(redo.out).load()) == 2  # the newer paginator line wins
    assert [r.task for r in outcome.records] == [PAGINATOR]  # only the tasks of this eval are reported


def test_resume_reruns_runs_that_hit_an_infrastructure_error(make_plan: Callable[..., EvalPlan]) -> None:
    plan = make_plan([task(PAGINATOR)], runs=2, harnesses=["gold"])
    store = ResultStore(plan.out)
    store.append(RunRecord(config="gold/reference", harness="gold", model="reference", task=PAGINATOR, run=0,
                           resolved=True, status="submitted"))
    store.append(RunRecord(config="gold/reference", harness="gold", model="reference", task=PAGINATOR, run=1,
                           error="sandbox error: the tool server died"))
    (plan.out / "results.jsonl").open("a").write('{"config": "cut off mid-wri')  # a crash while writing
    outcome = Evaluation(plan, RecordingDisplay()).run()
    assert (outcome.ran, outcome.skipped) == (1, 1)
    assert [(r.run, r.resolved, r.error) for r in outcome.records] == [(0, True, None), (1, True, None)]
    written = write_reports(plan.out, plan.tasks, plan.all_configs(), outcome.records, 2)
    assert f"| {PAGINATOR} | python | easy | 2/2 |" in written["summary"].read_text()
    assert (plan.out / "predictions" / "gold_reference.run1.jsonl").is_file()


def test_malformed_calls_are_counted(make_plan: Callable[..., EvalPlan]) -> None:
    def with_bad_calls(t: object, run: int) -> list[object]:
        bad = [reply("1. Look around", call("no_such_tool", "x1")),
               reply("", call("view_file", "x2", path=42))]
        return bad + solution_replies(Path(task(CSV).task_dir or ""))

    plan = make_plan([task(CSV)], model_factory=scripted_factory({CSV: with_bad_calls}))
    outcome = Evaluation(plan, RecordingDisplay()).run()
    assert [(r.resolved, r.malformed_calls) for r in outcome.records] == [(True, 2)]
    summary = write_reports(plan.out, plan.tasks, plan.all_configs(), outcome.records, 1)["summary"].read_text()
    assert "| coder/scripted | 1/1 | 100% | 8 |" in summary and "| 2 | 0 |" in summary  # steps; malformed, errors


def test_plot_is_a_png_with_a_curve_per_configuration(make_plan: Callable[..., EvalPlan], tmp_path: Path) -> None:
    pytest.importorskip("matplotlib", reason="the plot needs the `eval` extra (also in `test`)")
    plan = make_plan([task(PAGINATOR), task(CSV)], harnesses=["gold"])
    outcome = Evaluation(plan, RecordingDisplay()).run()
    records = outcome.records + [r.model_copy(update={"config": "other/x", "resolved": r.task == CSV})
                                 for r in outcome.records]
    configs = plan.all_configs() + [EvalConfig("other", "x")]
    written = write_reports(plan.out, plan.tasks, configs, records, 1)
    png = written["plot"].read_bytes()
    assert png.startswith(PNG_MAGIC) and len(png) > 5000
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    assert (width, height) == (900, 540)
    assert "![resolved tasks vs wall time](plot.png)" in written["summary"].read_text()


def test_a_refused_patch_is_an_unresolved_run_not_an_infrastructure_error(make_plan: Callable[..., EvalPlan]) -> None:
    """A model whose patch the patch check refuses (a link to a host file) did badly: that is not retried on resume."""
    def links_a_host_file(t: object, run: int) -> list[object]:
        submit = reply("", call("submit", "s1", summary="x"))
        return [reply("", call("bash", "l1", command="ln -s /etc/passwd leak")), submit, submit]  # pushed back once

    plan = make_plan([task(CSV)], model_factory=scripted_factory({CSV: links_a_host_file}))
    outcome = Evaluation(plan, RecordingDisplay()).run()
    [record] = outcome.records
    assert record.resolved is False and record.error is None, record
    assert record.message.startswith("the patch was refused"), record.message


def imported_modules(module: object) -> set[str]:
    """Every coder.eval module MODULE's source imports, at the top, in a function or under TYPE_CHECKING."""
    source = Path(str(module.__file__)).read_text()
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            found |= {f"coder.eval.{node.module}"} if node.module else {f"coder.eval.{a.name}" for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("coder.eval."):
            found.add(node.module)
    return found


def test_the_runner_and_the_ray_backend_depend_one_way() -> None:
    assert "coder.eval.ray_backend" in imported_modules(runner)
    assert "coder.eval.runner" not in imported_modules(ray_backend)
    assert {"coder.eval.plan"} <= imported_modules(runner) & imported_modules(ray_backend)


def test_two_strategies_run_the_same_task_as_two_configurations(make_plan: Callable[..., EvalPlan],
                                                                display: RecordingDisplay) -> None:
    """`--strategy guided --strategy tools`: each strategy is its own configuration, with its own runs, records,
    trajectories, predictions and table column, and the guided one counts its candidates."""
    guided_reply = ("The division rounds down, dropping the partial last page.\n```python\n@property\n"
                    "def num_pages(self) -> int:\n    \"\"\"Number of pages; an empty list still has one (empty) page."
                    "\"\"\"\n    if self.count == 0:\n        return 1\n    return -(-self.count // self.per_page)\n```\n")
    attempts: list[int] = []

    def script(t: EvalTask, run: int) -> list[ModelReply]:  # one worker: the guided configuration runs first
        attempts.append(run)
        return [reply(guided_reply)] if len(attempts) == 1 else solution_replies(Path(t.task_dir or ""))

    factory = scripted_factory({PAGINATOR: script})
    plan = make_plan([task(PAGINATOR)], strategies=["guided", "tools"], model_factory=factory)
    plan.config = plan.config.model_copy(update={"guided": GuidedConfig(candidates=1, rounds=1)})  # one reply
    outcome = Evaluation(plan, display).run()
    assert outcome.ran == 2 and not outcome.interrupted
    by_config = {r.config: r for r in outcome.records}
    assert set(by_config) == {"coder[guided]/scripted", "coder[tools]/scripted"}
    guided, tools = by_config["coder[guided]/scripted"], by_config["coder[tools]/scripted"]
    assert guided.resolved and guided.strategy == "guided" and guided.candidates == 1, guided
    assert tools.resolved and tools.strategy == "tools" and tools.candidates == 0 and tools.steps > 1, tools
    for model in factory.made:  # type: ignore[attr-defined]
        model.assert_consumed()
    assert factory.made[0].tools_seen == [[]]  # type: ignore[attr-defined]  # guided: code in a fence, no tools
    assert {Path(r.trajectory or "").parent.name for r in outcome.records} == {"coder_guided_scripted",
                                                                               "coder_tools_scripted"}
    written = write_reports(plan.out, plan.tasks, plan.all_configs(), outcome.records, plan.runs)
    summary = written["summary"].read_text()
    assert "| coder[guided]/scripted | 1/1 | 100% |" in summary and "| 0 | 0 | 1 |" in summary  # 1 candidate
    assert "| coder[tools]/scripted | 1/1 | 100% |" in summary
    assert "| task | language | difficulty | coder[guided]/scripted | coder[tools]/scripted |" in summary
    assert {p.name for p in (plan.out / "predictions").iterdir()} == {"coder_guided_scripted.jsonl",
                                                                      "coder_tools_scripted.jsonl"}
