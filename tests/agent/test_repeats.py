"""RepeatTracker: identical calls in a row, and the same call getting the same result while nothing changed."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

from coder.agent.repeats import RepeatTracker


def test_identical_calls_in_a_row_hint_then_give_up() -> None:
    tracker = RepeatTracker(hint_after=2, give_up_after=4)
    verdicts = [tracker.record("grep", {"pattern": "x"}, ok=False, output="bad regex").verdict for _ in range(4)]
    assert verdicts == ["none", "hint", "hint", "give_up"]


def test_successful_repeats_get_one_more_call_each_way() -> None:
    tracker = RepeatTracker(hint_after=2, give_up_after=4)
    verdicts = [tracker.record("view_file", {"path": "a.py"}, ok=True, output="1 x").verdict for _ in range(5)]
    assert verdicts == ["none", "none", "hint", "hint", "give_up"]


def test_same_failing_call_and_error_between_other_calls_is_an_echo() -> None:
    """The 1.5B model's loop on csv-export-drops-last-row: the same failing edit, then the same view, for 10 steps."""
    tracker = RepeatTracker(hint_after=2, give_up_after=4)
    edit = ("edit_file", {"path": "a.py", "command": "replace", "old": "# This is a comment", "new": "x"})
    view = ("view_file", {"path": "a.py"})
    checks = []
    for _ in range(4):
        checks.append(tracker.record(*view, ok=True, output="1 def f(): ..."))
        checks.append(tracker.record(*edit, ok=False, output="old text not found in a.py"))
    assert [c.verdict for c in checks] == ["none", "none", "none", "hint", "hint", "hint", "hint", "give_up"]
    assert checks[3].count == 2 and checks[3].failing and not checks[3].in_a_row
    assert checks[4].count == 3 and not checks[4].failing  # the view: successful, so one more allowed


def test_a_change_to_the_workspace_forgets_echoes() -> None:
    tracker = RepeatTracker(hint_after=2, give_up_after=4)
    tests = ("run_tests", {})
    for n in range(6):
        assert tracker.record(*tests, ok=True, output="1 failed").verdict == "none"
        edit = ("edit_file", {"path": "a.py", "command": "insert", "line": 0, "new": f"# try {n}\n"})
        assert tracker.record(*edit, ok=True, output="edited", changed=True).verdict == "none"


def test_a_different_result_is_not_an_echo() -> None:
    tracker = RepeatTracker(hint_after=2, give_up_after=4)
    for n in range(5):
        assert tracker.record("bash", {"command": "date"}, ok=True, output=f"t{n}", changed=True).verdict != "give_up"
        assert tracker.record("view_file", {"path": "log"}, ok=True, output=f"line {n}").verdict == "none"


def test_reset_forgets_everything() -> None:
    tracker = RepeatTracker(hint_after=2, give_up_after=4)
    tracker.record("grep", {"pattern": "x"}, ok=False, output="e")
    tracker.reset()
    assert tracker.record("grep", {"pattern": "x"}, ok=False, output="e").verdict == "none"


def test_bench_replay_finds_the_echo_loop_the_old_rule_missed(tmp_path: Path) -> None:
    """bench/repeat_replay.py on a recorded loop: the old rule never stops it, the current one at the 4th failing edit."""
    spec = importlib.util.spec_from_file_location("repeat_replay", Path(__file__).resolve().parents[2] / "bench" / "repeat_replay.py")
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = bench  # its dataclasses look their module up while being defined
    spec.loader.exec_module(bench)

    records: list[dict[str, Any]] = []
    for step in range(1, 11):
        name, arguments, ok, output = (("view_file", {"path": "a.py"}, True, "1 x = 1") if step % 2
                                       else ("edit_file", {"path": "a.py", "old": "y"}, False, "old text not found"))
        records += [{"kind": "event", "event": {"type": "model_replied", "step": step, "seconds": 10.0}},
                    {"kind": "event", "event": {"type": "tool_started", "step": step, "call_id": f"c{step}",
                                                "name": name, "arguments": arguments}},
                    {"kind": "event", "event": {"type": "tool_finished", "step": step, "call_id": f"c{step}",
                                                "name": name, "ok": ok, "output": output, "seconds": 0.5}}]
    records.append({"kind": "event", "event": {"type": "run_finished", "steps": 10, "elapsed": 110.0}})
    path = tmp_path / "run.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n")
    result = bench.replay(path, hint_after=2, give_up_after=4)
    assert result.steps == 10 and result.seconds == 105.0
    assert result.first_hint == {"in a row": None, "with echoes": 4}
    assert result.stop == {"in a row": None, "with echoes": (8, 84.0)}
