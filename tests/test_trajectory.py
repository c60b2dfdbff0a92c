"""Events round-trip through JSON, and trajectory files read back as the events that were written."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

from coder.events import (
    EVENT_TYPES,
    ApprovalDecided,
    ApprovalRequested,
    CandidateTried,
    Event,
    FileEdited,
    FollowUpSent,
    HintGiven,
    LimitReached,
    ModelReplied,
    PlanUpdated,
    RunFinished,
    RunStarted,
    StepUndone,
    TestsRan,
    TextStreamed,
    ToolCallRejected,
    ToolFinished,
    ToolStarted,
    event_from_dict,
    to_dict,
)
from coder.trajectory import TrajectoryWriter, default_trajectory_dir, read_events

DIFF = "--- a/calc.py\n+++ b/calc.py\n@@ -1,2 +1,2 @@\n def add(a, b):\n-    return a - b\n+    return a + b\n"

# One sample per event type, with every field set to something other than its default.
SAMPLES: dict[str, Event] = {
    "run_started": RunStarted(run_id="run-1", task="fix add", model="qwen2.5-coder", sandbox="local", repo="/r",
                              limits={"max_steps": 30, "max_wall_seconds": 1800.0}),
    "plan_updated": PlanUpdated(steps=("read calc.py", "fix add", "run tests"), revision=2),
    "text_streamed": TextStreamed(step=1, text="Let me look at calc.py"),
    "model_replied": ModelReplied(step=1, text="1. read", tool_calls=({"id": "c1", "name": "view_file",
                                                                       "arguments": {"path": "calc.py"}},),
                                  prompt_tokens=1200, completion_tokens=34, cached_tokens=1000, seconds=1.25),
    "tool_call_rejected": ToolCallRejected(step=2, name="edit_fle", reason="unknown tool 'edit_fle'"),
    "tool_started": ToolStarted(step=2, call_id="c1", name="view_file", arguments={"path": "calc.py", "start_line": 1}),
    "tool_finished": ToolFinished(step=2, call_id="c1", name="view_file", ok=True, output="1\tdef add(a, b):",
                                  seconds=0.004),
    "file_edited": FileEdited(step=3, path="calc.py", diff=DIFF),
    "tests_ran": TestsRan(phase="final", runner="pytest", command="python -m pytest -q", passed=2, failed=1, errors=0,
                          skipped=3, outcomes={"tests/test_calc.py::test_add": "passed",
                                               "tests/test_calc.py::test_mul": "failed"}),
    "hint_given": HintGiven(step=4, reason="same failing edit_file call 2 times"),
    "limit_reached": LimitReached(limit="steps", value=30, maximum=30),
    "run_finished": RunFinished(status="resolved", message="tests pass", patch=DIFF, steps=5, elapsed=12.5,
                                prompt_tokens=5000, completion_tokens=300, cached_tokens=4000,
                                fail_to_pass=("tests/test_calc.py::test_add",), still_failing=("t::b",),
                                pass_to_fail=("t::c",), summary="fixed add"),
    "follow_up_sent": FollowUpSent(text="also handle negative numbers"),
    "approval_requested": ApprovalRequested(step=6, call_id="c9", name="bash", arguments={"command": "rm -rf build"},
                                            reason="runs a shell command: rm -rf build"),
    "approval_decided": ApprovalDecided(step=6, call_id="c9", name="bash", decision="always"),
    "step_undone": StepUndone(steps=(4, 5), changed=("calc.py", "made.txt"), message="undid steps 4-5: 2 file(s) restored"),
    "candidate_tried": CandidateTried(step=7, index=3, total=8, verdict="rejected", fixed=2, failing=3, broken=1,
                                      diff_lines=6, functions=("calc.py:add", "calc.py:_carry"),
                                      reason="breaks tests/test_calc.py::test_mul"),
}


def test_samples_cover_every_event_type() -> None:
    assert set(SAMPLES) == set(EVENT_TYPES)
    for name, event in SAMPLES.items():
        assert type(event) is EVENT_TYPES[name] and event.type == name


@pytest.mark.parametrize("name", sorted(EVENT_TYPES))
def test_round_trip_through_json(name: str) -> None:
    event = SAMPLES[name]
    data = to_dict(event)
    assert next(iter(data)) == "type" and data["type"] == name
    rebuilt = event_from_dict(json.loads(json.dumps(data)))
    assert rebuilt == event
    assert type(rebuilt) is type(event)


@pytest.mark.parametrize("name", sorted(EVENT_TYPES))
def test_events_are_frozen(name: str) -> None:
    event = SAMPLES[name]
    field = dataclasses.fields(event)[0].name  # type: ignore[arg-type]
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(event, field, None)


def test_defaults_survive_round_trip() -> None:
    event = RunFinished(status="error", message="m", patch="", steps=0, elapsed=0.0, prompt_tokens=0,
                        completion_tokens=0, cached_tokens=0)
    assert event_from_dict(json.loads(json.dumps(to_dict(event)))) == event


def test_unknown_event_type() -> None:
    with pytest.raises(ValueError, match="unknown event type"):
        event_from_dict({"type": "run_exploded"})


def write_all(path: Path, events: list[Event]) -> None:
    writer = TrajectoryWriter(path)
    try:
        writer.request(1, [{"role": "system", "content": "you are coder"}], ["view_file"])
        for event in events:
            writer.event(event)
            writer.response(1, "raw <tool_call>")
    finally:
        writer.close()
    writer.close()  # closing twice is fine


def test_writer_and_reader_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "run.jsonl"
    events = [SAMPLES[name] for name in EVENT_TYPES]
    write_all(path, events)
    kinds = [json.loads(line)["kind"] for line in path.read_text(encoding="utf-8").splitlines()]
    assert kinds.count("event") == len(events) and "request" in kinds and "response" in kinds
    assert list(read_events(path)) == events


def test_reader_skips_non_event_records(tmp_path: Path) -> None:
    path = tmp_path / "run.jsonl"
    records: list[Any] = [
        {"kind": "request", "step": 1, "messages": [], "tools": []},
        {"kind": "event", "event": to_dict(SAMPLES["hint_given"])},
        [1, 2, 3],
        "just a string",
        {"no_kind": True},
        {"kind": "response", "step": 1, "raw": "x"},
        {"kind": "event", "event": to_dict(SAMPLES["limit_reached"])},
    ]
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n\n   \n", encoding="utf-8")
    assert list(read_events(path)) == [SAMPLES["hint_given"], SAMPLES["limit_reached"]]


def test_reader_reports_bad_json_with_line_number(tmp_path: Path) -> None:
    path = tmp_path / "run.jsonl"
    good = json.dumps({"kind": "event", "event": to_dict(SAMPLES["hint_given"])})
    path.write_text(f"{good}\n{good}\n{{not json\n{good}\n", encoding="utf-8")
    events = read_events(path)
    assert next(events) == SAMPLES["hint_given"]
    with pytest.raises(ValueError, match=r"run\.jsonl:3: not JSON"):
        list(events)


def test_writer_appends_and_keeps_unicode(tmp_path: Path) -> None:
    path = tmp_path / "run.jsonl"
    event = TextStreamed(step=1, text="naïve ✓ 日本")
    write_all(path, [event])
    write_all(path, [event])
    assert list(read_events(path)) == [event, event]
    assert "日本" in path.read_text(encoding="utf-8")


def test_default_trajectory_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert default_trajectory_dir() == tmp_path / "coder" / "trajectories"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert default_trajectory_dir() == Path.home() / ".cache" / "coder" / "trajectories"


HOSTILE = "caf\udce9 \udcff lone\ud800 \x1b[2K\r esc \u202e bidi \u200b nel\x85 del\x7f ✓ 日本"


def test_writer_keeps_undecodable_bytes_and_control_characters_losslessly(tmp_path: Path) -> None:
    """Surrogates (bytes that were not UTF-8) crashed the writer; now every record is valid UTF-8 and reads back."""
    path = tmp_path / "run.jsonl"
    events: list[Event] = [
        FileEdited(step=1, path="data\udcff.txt", diff="+caf\udce9\n"),
        ToolStarted(step=2, call_id="c", name="view_file", arguments={"path": "x\ud800.py"}),
        ToolFinished(step=2, call_id="c", name="bash", ok=True, output=HOSTILE, seconds=0.1),
        dataclasses.replace(SAMPLES["run_finished"], patch="+caf\udce9 = 2\n", message=HOSTILE),  # type: ignore[type-var]
    ]
    writer = TrajectoryWriter(path)
    writer.request(1, [{"role": "user", "content": HOSTILE}], ["bash"])
    writer.response(1, HOSTILE)
    for event in events:
        writer.event(event)
    writer.close()
    text = path.read_bytes().decode("utf-8")  # strict: the file is valid UTF-8
    assert "\x1b" not in text and "\u202e" not in text and "\x85" not in text and "\x7f" not in text
    assert "日本" in text
    assert list(read_events(path)) == events
    records = [json.loads(line) for line in text.splitlines()]
    assert records[0]["messages"][0]["content"] == HOSTILE and records[1]["raw"] == HOSTILE
