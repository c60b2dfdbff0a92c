"""summary.md and plot.png from records: the numbers in the tables, the curve behind the plot, a missing matplotlib."""

from __future__ import annotations

import builtins
from pathlib import Path
from typing import Any

import pytest

from coder.eval.jobs import EvalConfig
from coder.eval.plot import curve
from coder.eval.report import markdown, write_reports
from coder.eval.results import RunRecord
from conftest import CSV, PAGINATOR, task


def rec(config: str, task_id: str, run: int = 0, **fields: Any) -> RunRecord:
    harness, model = config.split("/")
    return RunRecord(config=config, harness=harness, model=model, task=task_id, run=run, status="resolved", **fields)


RECORDS = [
    rec("coder/m", CSV, resolved=True, steps=6, prompt_tokens=3000, completion_tokens=200, cached_tokens=1500,
        wall_seconds=30.0, malformed_calls=1, candidates=5, patch="p1"),
    rec("coder/m", PAGINATOR, resolved=False, steps=10, prompt_tokens=5000, completion_tokens=400, wall_seconds=50.0),
    rec("mini-swe-agent/m", CSV, resolved=True, steps=4, wall_seconds=12.0, malformed_calls=2),
    rec("mini-swe-agent/m", PAGINATOR, error="sandbox error: gone", wall_seconds=1.0),
]
CONFIGS = [EvalConfig("coder", "m"), EvalConfig("mini-swe-agent", "m")]


def test_summary_and_task_tables() -> None:
    text = markdown([task(CSV), task(PAGINATOR)], CONFIGS, RECORDS, 1)
    assert "| coder/m | 1/2 | 50% | 8 | 4.0k | 300 | 750 | 40.0 | 80.0 | 1 | 0 | 2.5 |" in text
    assert "| mini-swe-agent/m | 1/2 | 50% | 4 | 0 | 0 | 0 | 12.0 | 13.0 | 2 | 1 | 0 |" in text  # errors excluded from means
    assert f"| {CSV} | python | easy | ✓ 6 steps, 30s | ✓ 4 steps, 12s |" in text
    assert f"| {PAGINATOR} | python | easy | ✗ 10 steps, 50s | error 0 steps, 1s |" in text
    assert f"- mini-swe-agent/m {PAGINATOR}#0: sandbox error: gone" in text


def test_runs_not_done_yet_are_counted_as_missing() -> None:
    text = markdown([task(CSV), task(PAGINATOR)], CONFIGS[:1], RECORDS[:1], 2)
    assert "| coder/m | 1/4 (3 not run) | 25% |" in text and f"| {PAGINATOR} | python | easy | – |" in text


def test_curve_counts_tasks_resolved_within_each_time() -> None:
    records = [rec("c/m", "a", resolved=True, wall_seconds=10), rec("c/m", "b", resolved=True, wall_seconds=30),
               rec("c/m", "c", resolved=False, wall_seconds=60)]
    assert curve(records, 1) == ([0.0, 10, 10, 30, 30, 60], [0.0, 0.0, 1.0, 1.0, 2.0, 2.0])
    assert curve(records, 2)[1][-1] == 1.0  # averaged over runs
    assert curve([], 1) == ([0.0, 0.0], [0.0, 0.0])


def test_without_matplotlib_the_summary_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real_import = builtins.__import__

    def no_matplotlib(name: str, *args: Any, **kwargs: Any) -> Any:
        if name.startswith("matplotlib"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_matplotlib)
    written = write_reports(tmp_path, [task(CSV), task(PAGINATOR)], CONFIGS, RECORDS, 1)
    assert "plot" not in written and not (tmp_path / "plot.png").exists()
    assert "(no plot: matplotlib is not installed; pip install 'coder-agent[eval]')" in written["summary"].read_text()
    predictions = (tmp_path / "predictions" / "mini-swe-agent_m.jsonl").read_text().splitlines()
    assert len(predictions) == 1  # the errored run has no prediction
