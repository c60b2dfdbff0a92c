"""Replay recorded trajectories through the repeat rules: when would each rule have hinted or stopped the run?

The baseline is the rule before echoes were counted (identical calls in a row only), replayed on the same calls in
the same run. A replay assumes the model would have made the same calls after a hint it never got, so the figures
after the first new hint are an upper bound on what the new rule saves.

    python bench/repeat_replay.py eval-results/trajectories [more dirs or .jsonl files]
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from coder.agent.repeats import RepeatTracker  # noqa: E402
from coder.config import Config  # noqa: E402
from coder_tools.registry import all_tools  # noqa: E402


@dataclass
class Replay:
    name: str
    steps: int
    seconds: float
    first_hint: dict[str, int | None]
    stop: dict[str, tuple[int, float] | None]  # rule -> (step, seconds into the run) of its give-up


def _calls(path: Path) -> tuple[list[tuple[int, str, Any, bool, str, float]], int, float]:
    """(step, name, arguments, ok, output, model+tool seconds so far) per call; the run's steps and model+tool seconds."""
    started: dict[str, tuple[str, Any]] = {}
    calls: list[tuple[int, str, Any, bool, str, float]] = []
    clock, steps = 0.0, 0
    for line in path.read_text().splitlines():
        record = json.loads(line)
        event = record.get("event") or {}
        kind = event.get("type")
        if kind == "model_replied":
            clock += float(event.get("seconds") or 0)
        elif kind == "tool_started":
            started[event["call_id"]] = (event["name"], event["arguments"])
        elif kind == "tool_finished":
            clock += float(event.get("seconds") or 0)
            name, arguments = started.pop(event["call_id"], (event["name"], {}))
            if name != "submit":
                calls.append((event["step"], name, arguments, bool(event["ok"]), event["output"], clock))
        elif kind == "tool_call_rejected" and event.get("name"):
            calls.append((event["step"], event["name"], {}, False, event.get("reason", ""), clock))
        elif kind == "run_finished":
            steps = int(event.get("steps") or 0)
    return calls, steps, clock


def replay(path: Path, hint_after: int, give_up_after: int) -> Replay:
    calls, steps, total = _calls(path)
    result = Replay(path.stem, steps, total, {"in a row": None, "with echoes": None}, {"in a row": None, "with echoes": None})
    for rule in result.first_hint:
        tracker = RepeatTracker(hint_after, give_up_after)
        tools = all_tools()
        for step, name, arguments, ok, output, clock in calls:
            changed = name in tools and tools[name].may_have_changed(ok)
            # The old rule is the tracker with every call counted as a change: echoes are never kept.
            check = tracker.record(name, arguments, ok, output, changed=changed or rule == "in a row")
            if check.verdict != "none" and result.first_hint[rule] is None:
                result.first_hint[rule] = step
            if check.verdict == "give_up":
                result.stop[rule] = (step, clock)
                break
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="+", type=Path, help="trajectory .jsonl files or directories holding them")
    args = parser.parse_args()
    agent = Config().agent
    files = sorted(f for p in args.paths for f in ([p] if p.is_file() else p.rglob("*.jsonl")))
    replays = [replay(f, agent.repeat_hint_after, agent.repeat_give_up_after) for f in files]
    replays = [r for r in replays if r.steps]
    if not replays:
        print("no finished trajectories found", file=sys.stderr)
        return 2
    print(f"{'run':<32} {'steps':>5} {'secs':>7}  {'hint: row / echo':>17}  {'stop: row / echo':>17}")
    for r in replays:
        hints = " / ".join(str(r.first_hint[k] or "-") for k in r.first_hint)
        stops = " / ".join(str(s[0]) if s else "-" for s in r.stop.values())
        print(f"{r.name:<32} {r.steps:>5} {r.seconds:>7.1f}  {hints:>17}  {stops:>17}")
    total_steps = sum(r.steps for r in replays)
    total_secs = sum(r.seconds for r in replays)
    for rule in ("in a row", "with echoes"):
        hinted = sum(1 for r in replays if r.first_hint[rule] is not None)
        stopped = [r for r in replays if r.stop[rule] is not None]
        steps = sum((r.stop[rule][0] if r.stop[rule] else r.steps) for r in replays)  # type: ignore[index]
        secs = sum((r.stop[rule][1] if r.stop[rule] else r.seconds) for r in replays)  # type: ignore[index]
        print(f"{rule:>12}: hinted {hinted}/{len(replays)} runs, stopped {len(stopped)}; "
              f"steps {steps / total_steps:.2f}x and model+tool seconds {secs / total_secs:.2f}x of the recorded runs")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
