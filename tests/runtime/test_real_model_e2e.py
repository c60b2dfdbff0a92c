"""`coder fix` on a tasks/ task with the real Qwen2.5-Coder-0.5B-Instruct GGUF through the bundled runtime.

Asserted: every tool call the model made was well-formed (the grammar rules malformed calls out), the run ended by
itself within its limits, and the trajectory was written. Whether it solved the task is the benchmark's business.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from coder.eval.taskspec import checkout, load_task

TASK = Path(__file__).resolve().parents[2] / "tasks" / "paginator-drops-partial-page"

# The run may use its whole --max-seconds on a slow CPU (an AVX2-only 2-core machine took over 300 s, the default limit).
pytestmark = [pytest.mark.model, pytest.mark.slow, pytest.mark.timeout(720)]


def fix_on_the_task(gguf: Path, tmp_path: Path, settings: dict[str, str], *flags: str) -> list[dict[str, Any]]:
    """`coder fix --json` on a fresh checkout of TASK with the real GGUF and SETTINGS (CODER_* variables): the events."""
    spec = load_task(TASK)
    repo = checkout(TASK, tmp_path / "repo")
    (tmp_path / "issue.md").write_text(spec.issue)
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("CODER_")}, "CODER_MODEL__PATH": str(gguf),
           "XDG_CACHE_HOME": str(tmp_path / "cache"), "CODER_SANDBOX__KIND": "local", **settings}
    proc = subprocess.run(
        [sys.executable, "-m", "coder.cli", "fix", "--issue-file", str(tmp_path / "issue.md"), "--json", *flags],
        cwd=repo, env=env, capture_output=True, text=True, timeout=660, stdin=subprocess.DEVNULL)
    assert proc.returncode in (0, 1), proc.stderr[-3000:]
    return [json.loads(line) for line in proc.stdout.splitlines()]


def test_coder_fix_with_the_real_05b_model(real_gguf: Path, tmp_path: Path) -> None:
    # the tool loop here (auto would pick guided for the 0.5B); the guided strategy has its own test below
    events = fix_on_the_task(real_gguf, tmp_path, {"CODER_MODEL__CONTEXT": "16384", "CODER_AGENT__STRATEGY": "tools"},
                             "--max-steps", "8", "--max-seconds", "480")
    kinds = [e["type"] for e in events]
    final = events[-1]
    assert final["type"] == "run_finished" and final["status"] in ("resolved", "not_resolved", "limit_reached", "stuck")
    replies = [e for e in events if e["type"] == "model_replied"]
    assert replies and final["steps"] <= 8
    calls = [c for r in replies for c in r["tool_calls"]]
    assert calls and all(c["parse_error"] is None for c in calls), calls
    rejected = [e for e in events if e["type"] == "tool_call_rejected"]
    assert rejected == [], rejected  # no malformed call, no unknown tool, no invalid arguments, no call-less reply
    assert "tool_started" in kinds
    trajectories = list((tmp_path / "cache" / "coder" / "trajectories").glob("*.jsonl"))
    assert len(trajectories) == 1
    records = [json.loads(line) for line in trajectories[0].read_text().splitlines()]
    assert {r["kind"] for r in records} == {"event", "request", "response"}
    assert any(r["kind"] == "response" and "<tool_call>" in r["raw"] for r in records)
    print(f"real 0.5B: status={final['status']} steps={final['steps']} elapsed={final['elapsed']:.0f}s "
          f"prompt={final['prompt_tokens']} cached={final['cached_tokens']} fail_to_pass={final['fail_to_pass']}")


def test_the_guided_strategy_with_the_real_05b_model(real_gguf: Path, tmp_path: Path) -> None:
    """The guided strategy end to end on a tasks/ task: localized, candidates sampled and judged by the tests, the run
    ended by itself within its limits. Whether a candidate fixed the task is the benchmark's business."""
    settings = {"CODER_MODEL__CONTEXT": "8192", "CODER_AGENT__STRATEGY": "guided", "CODER_GUIDED__CANDIDATES": "3",
                "CODER_GUIDED__ROUNDS": "1"}
    events = fix_on_the_task(real_gguf, tmp_path, settings, "--max-steps", "3", "--max-seconds", "400")
    final = events[-1]
    assert final["type"] == "run_finished" and final["status"] in ("resolved", "not_resolved", "limit_reached")
    assert 1 <= final["steps"] <= 3
    tried = [e for e in events if e["type"] == "candidate_tried"]
    assert tried and all(e["verdict"] in ("accepted", "rejected", "discarded", "duplicate") for e in tried)
    assert [e["type"] for e in events if e["type"] == "tests_ran"][:1] == ["tests_ran"]
    replies = [e for e in events if e["type"] == "model_replied"]
    assert len(replies) == final["steps"] and all(r["tool_calls"] == [] for r in replies)  # code in fences, no tools
    if final["status"] == "resolved":
        assert final["fail_to_pass"] and not final["pass_to_fail"] and not final["test_files"]
    hit = final["cached_tokens"] / final["prompt_tokens"] if final["prompt_tokens"] else 0.0
    print(f"real 0.5B guided: status={final['status']} candidates={len(tried)} "
          f"verdicts={[e['verdict'] for e in tried]} elapsed={final['elapsed']:.0f}s prefix cache hit={hit:.0%}")
