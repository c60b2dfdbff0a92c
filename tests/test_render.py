"""Each renderer shows exactly the event types it declares; the rich renderer shows the key facts and never
interprets markup."""

from __future__ import annotations

import dataclasses
import inspect
import io
import json
import re
from typing import Any

import pytest
from rich.console import Console

from coder import render
from coder.events import EVENT_TYPES, Event, ToolFinished, event_from_dict
from coder.render import JsonRenderer, RichRenderer
from test_trajectory import SAMPLES

MARKUP = "[red]x[/] [/] [bold]y [link=http://e.com]z[/link] \\[w] [unclosed"


def make_console() -> tuple[Console, io.StringIO]:
    buffer = io.StringIO()
    return Console(file=buffer, width=300, color_system=None, highlight=False, emoji=False), buffer


def rich_output(*events: Event, show_text: bool = True) -> str:
    console, buffer = make_console()
    renderer = RichRenderer(console, show_text=show_text)
    for event in events:
        renderer(event)
    return buffer.getvalue()


def renderer_classes() -> list[type[Any]]:
    """Every class in coder.render that declares which event types it handles."""
    return [cls for _, cls in inspect.getmembers(render, inspect.isclass)
            if cls.__module__ == render.__name__ and "handled_types" in vars(cls)]


def make_renderer(cls: type[Any]) -> Any:
    if cls is JsonRenderer:
        return cls(io.StringIO())
    if cls is RichRenderer:
        return cls(make_console()[0])
    return cls()


def test_known_renderers_are_discovered() -> None:
    assert {RichRenderer, JsonRenderer} <= set(renderer_classes())


def rendered(cls: type[Any], event: Event) -> str:
    """What a fresh renderer of class CLS writes for EVENT."""
    if cls is JsonRenderer:
        stream = io.StringIO()
        JsonRenderer(stream)(event)
        return stream.getvalue()
    if cls is RichRenderer:
        return rich_output(event)
    raise AssertionError(f"no way to read what {cls.__name__} writes: add one here")


@pytest.mark.parametrize("cls", renderer_classes(), ids=lambda c: c.__name__)
def test_declared_types_are_event_types(cls: type[Any]) -> None:
    assert isinstance(cls.handled_types, frozenset) and cls.handled_types <= set(EVENT_TYPES)


@pytest.mark.parametrize("cls", renderer_classes(), ids=lambda c: c.__name__)
@pytest.mark.parametrize("name", sorted(EVENT_TYPES))
def test_a_renderer_writes_something_exactly_for_the_types_it_declares(cls: type[Any], name: str) -> None:
    output = rendered(cls, SAMPLES[name])
    if name in cls.handled_types:
        assert output.strip(), f"{cls.__name__} declares {name} but writes nothing for it"
    else:
        assert output == "", f"{cls.__name__} writes {output!r} for {name}, which it does not declare"


def test_rich_renderer_dispatches_exactly_the_declared_types() -> None:
    assert set(make_renderer(RichRenderer)._handlers) == RichRenderer.handled_types


def test_rich_renderer_ignores_tool_started() -> None:
    assert "tool_started" not in RichRenderer.handled_types and rich_output(SAMPLES["tool_started"]) == ""


# Facts that must appear when each sample is rendered (tool_started prints nothing: its finished line says it all).
KEY_FACTS: dict[str, list[str]] = {
    "run_started": ["fix add", "qwen2.5-coder", "local", "run-1"],
    "plan_updated": ["revision 2", "1. read calc.py", "2. fix add", "3. run tests"],
    "text_streamed": ["Let me look at calc.py"],
    "model_replied": ["step 1", "1200+34", "1000 cached", "1.2s"],
    "tool_call_rejected": ["rejected", "edit_fle", "unknown tool 'edit_fle'"],
    "tool_started": [],
    "tool_finished": ["✓", "view_file", "def add(a, b):"],
    "file_edited": ["edited calc.py", "+1", "-1"],
    "tests_ran": ["final", "2 passed", "1 failed", "0 errors", "3 skipped", "python -m pytest -q"],
    "hint_given": ["hint", "same failing edit_file call 2 times"],
    "limit_reached": ["limit reached", "steps", "30 of 30"],
    "run_finished": ["resolved", "tests pass", "tests/test_calc.py::test_add", "still failing: t::b",
                     "broken by the change: t::c", "5 steps", "5000+300", "4000 cached", "12.5s"],
    "follow_up_sent": ["you", "also handle negative numbers"],
    "approval_requested": ["bash needs approval", "runs a shell command: rm -rf build"],
    "approval_decided": ["bash approved for this session"],
    "step_undone": ["undid steps 4-5", "calc.py, made.txt"],
    "candidate_tried": ["candidate 3/8: fixes 2 of 3 failing tests, breaks 1 (rejected)", "calc.py:add, calc.py:_carry",
                        "breaks tests/test_calc.py::test_mul"],
}


def test_key_facts_cover_every_event_type() -> None:
    assert set(KEY_FACTS) == set(EVENT_TYPES)


@pytest.mark.parametrize("name", sorted(EVENT_TYPES))
def test_rich_renderer_shows_key_facts(name: str) -> None:
    output = rich_output(SAMPLES[name])
    for fact in KEY_FACTS[name]:
        assert fact in output, f"{fact!r} missing from {output!r}"


@pytest.mark.parametrize(("fields", "line", "absent"), [
    ({"verdict": "accepted", "broken": 0, "failing": 3, "fixed": 2},
     "candidate 3/8: fixes 2 of 3 failing tests, breaks 0 (accepted) calc.py:add", "test_mul"),  # no reason shown
    ({"verdict": "accepted", "broken": 0, "failing": 1, "fixed": 1}, "fixes 1 of 1 failing test, breaks 0", None),
    ({"verdict": "accepted", "broken": 0, "failing": 0, "fixed": 0},
     "candidate 3/8: no failing test to fix, breaks 0 (accepted)", None),
    ({"verdict": "discarded", "reason": "the reply has no code fence", "functions": ()},
     "candidate 3/8: discarded the reply has no code fence", "fixes"),
    ({"verdict": "duplicate", "reason": "same code as candidate 1", "functions": ()},
     "candidate 3/8: duplicate same code as candidate 1", "breaks"),
])
def test_candidate_line(fields: dict[str, Any], line: str, absent: str | None) -> None:
    output = rich_output(dataclasses.replace(SAMPLES["candidate_tried"], **fields))  # type: ignore[type-var]
    assert line in output and (absent is None or absent not in output), output


def test_a_long_candidate_reason_is_cut_without_breaking_markup() -> None:
    reason = "x" * 159 + "[/]" + "q" * 50
    output = rich_output(dataclasses.replace(SAMPLES["candidate_tried"], reason=reason))  # type: ignore[type-var]
    assert "x" * 159 + "[" in output and "q" not in output


def test_failed_tool_is_marked() -> None:
    event = dataclasses.replace(SAMPLES["tool_finished"], ok=False, output="\n\nold text not found\nmore")
    output = rich_output(event)
    assert "✗" in output and "✓" not in output and "old text not found" in output and "more" not in output


def test_empty_tool_output() -> None:
    assert "view_file" in rich_output(dataclasses.replace(SAMPLES["tool_finished"], output="  \n"))


def test_streamed_text_is_ended_before_the_next_line() -> None:
    output = rich_output(SAMPLES["text_streamed"], SAMPLES["text_streamed"], SAMPLES["model_replied"])
    assert "Let me look at calc.pyLet me look at calc.py\nstep 1" in output


def test_streamed_text_hidden_when_asked() -> None:
    assert "Let me look" not in rich_output(SAMPLES["text_streamed"], show_text=False)


def test_show_patch() -> None:
    console, buffer = make_console()
    renderer = RichRenderer(console)
    renderer.show_patch(SAMPLES["run_finished"].patch)  # type: ignore[union-attr]
    renderer.show_patch("")
    output = buffer.getvalue()
    assert "+    return a + b" in output and "(no changes)" in output


@pytest.mark.parametrize("output", [MARKUP, "[/]", "[red]x[/]", "C:\\path\\", "list[int] = [1, 2]"])
def test_markup_in_tool_output_is_literal(output: str) -> None:
    event = ToolFinished(step=1, call_id="c", name="bash", ok=True, output=output + "\nsecond line", seconds=0.1)
    shown = rich_output(event)
    assert output in shown
    assert "second line" not in shown


# Every text field the rich renderer prints must be escaped: a "[/]" would crash the renderer with MarkupError and
# "[red]x[/]" would be swallowed (e.g. pytest ids like test_f[a-b]).
DISPLAYED_FIELDS = [
    pytest.param("run_started", "task"),
    pytest.param("run_started", "model"),
    pytest.param("run_started", "sandbox"),
    pytest.param("run_started", "run_id"),
    pytest.param("plan_updated", "steps"),
    pytest.param("text_streamed", "text"),
    pytest.param("tool_call_rejected", "name"),
    pytest.param("tool_call_rejected", "reason"),
    pytest.param("tool_finished", "name"),
    pytest.param("tool_finished", "output"),
    pytest.param("file_edited", "path"),
    pytest.param("tests_ran", "command"),
    pytest.param("hint_given", "reason"),
    pytest.param("run_finished", "message"),
    pytest.param("run_finished", "fail_to_pass"),
    pytest.param("run_finished", "still_failing"),
    pytest.param("run_finished", "pass_to_fail"),
    pytest.param("candidate_tried", "functions"),
    pytest.param("candidate_tried", "reason"),
]


@pytest.mark.parametrize(("name", "field"), DISPLAYED_FIELDS)
def test_markup_in_displayed_fields_is_literal(name: str, field: str) -> None:
    sample = SAMPLES[name]
    value: Any = (MARKUP,) if isinstance(getattr(sample, field), tuple) else MARKUP
    shown = rich_output(dataclasses.replace(sample, **{field: value}))  # type: ignore[type-var]
    assert MARKUP in shown, shown


def test_json_renderer_writes_one_event_per_line() -> None:
    stream = io.StringIO()
    renderer = JsonRenderer(stream)
    for event in SAMPLES.values():
        renderer(event)
    lines = stream.getvalue().splitlines()
    assert len(lines) == len(SAMPLES)
    assert [event_from_dict(json.loads(line)) for line in lines] == list(SAMPLES.values())


def test_json_renderer_keeps_markup_and_unicode_verbatim() -> None:
    stream = io.StringIO()
    JsonRenderer(stream)(ToolFinished(step=1, call_id="c", name="bash", ok=True, output=MARKUP + " ✓", seconds=0.0))
    assert json.loads(stream.getvalue())["output"] == MARKUP + " ✓"


# Control characters, bidi and invisible characters, and undecodable bytes (surrogates) in any printed field: the ESC
# sequence "\x1b[2K\r" erased a line of the review; a surrogate crashed the console.
HOSTILE = "evil\x1b[2K\r\x1b]0;title\x07 \u202eabc\u2066 zw\u200b nel\x85 del\x7f caf\udce9"
HOSTILE_SHOWN = "evil\\x1b[2K\\r\\x1b]0;title\\x07 \\u202eabc\\u2066 zw\\u200b nel\\u0085 del\\x7f caf\\xe9"
RAW = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")

PRINTED_FIELDS = DISPLAYED_FIELDS + [
    pytest.param("follow_up_sent", "text"),
    pytest.param("approval_requested", "name"),
    pytest.param("approval_requested", "reason"),
    pytest.param("approval_decided", "name"),
    pytest.param("step_undone", "message"),
    pytest.param("step_undone", "changed"),
    pytest.param("candidate_tried", "functions"),
    pytest.param("candidate_tried", "reason"),
]


@pytest.mark.parametrize(("name", "field"), PRINTED_FIELDS)
def test_control_characters_in_printed_fields_are_made_visible(name: str, field: str) -> None:
    sample = SAMPLES[name]
    value: Any = (HOSTILE,) if isinstance(getattr(sample, field), tuple) else HOSTILE
    shown = rich_output(dataclasses.replace(sample, **{field: value}))  # type: ignore[type-var]
    assert RAW.search(shown) is None, repr(shown)
    assert HOSTILE_SHOWN in shown, shown


def test_tool_output_first_line_cut_after_escaping() -> None:
    event = ToolFinished(step=1, call_id="c", name="bash", ok=True, output="x\r" + HOSTILE + "\nsecond", seconds=0.1)
    shown = rich_output(event)
    assert RAW.search(shown) is None and "x\\revil\\x1b[2K" in shown and "second" not in shown


def show_patch(patch: str) -> str:
    console, buffer = make_console()
    RichRenderer(console).show_patch(patch)
    return buffer.getvalue()


HIDDEN_LINE_PATCH = ("diff --git a/mod.py b/mod.py\n--- a/mod.py\n+++ b/mod.py\n@@ -1 +1,3 @@\n x = 1\n"
                     "+import os; os.system('id')\x1b[2K\r# harmless\n+s = 'caf\udce9'  # \u202e evil\n")


def test_show_patch_reveals_a_line_hidden_by_escape_sequences() -> None:
    shown = show_patch(HIDDEN_LINE_PATCH)
    assert RAW.search(shown) is None, repr(shown)
    assert "+import os; os.system('id')\\x1b[2K\\r# harmless" in shown
    assert "+s = 'caf\\xe9'  # \\u202e evil" in shown


def test_show_patch_keeps_markup_literal() -> None:
    patch = "diff --git a/[bold]x b/[bold]x\n--- a/[bold]x\n+++ b/[bold]x\n@@ -1 +1 @@\n-[link=http://e.com]a\n+[/]b\n"
    shown = show_patch(patch)
    assert "+++ b/[bold]x" in shown and "-[link=http://e.com]a" in shown and "+[/]b" in shown


BINARY_PATCH = """\
diff --git a/x.bin b/x.bin
index 20b5be91886d0b6f26dc98a225c0dac05fe2c86e..11316637ae2b67ecba2110bbee4bed9eec3100e8 100644
GIT binary patch
literal 6
NcmYdfNM>YW1^@%%0LuUX

literal 3
KcmYdfNCE%>hycU@

diff --git a/y.txt b/y.txt
index 3367afd..df082d3 100644
--- a/y.txt
+++ b/y.txt
@@ -1 +1,2 @@
 old
+new
diff --git a/z.png b/z.png
index 20b5be9..1131663 100644
Binary files a/z.png and b/z.png differ
"""


def test_show_patch_marks_binary_changes_with_name_and_size() -> None:
    shown = show_patch(BINARY_PATCH)
    assert "NcmYdfNM" not in shown and "KcmYdfNCE" not in shown  # no base85 passes for a review
    assert "binary change: x.bin" in shown and "6 bytes" in shown and "was 3 bytes" in shown
    assert "binary change: z.png" in shown and "content not in the patch" in shown
    assert "+new" in shown


def test_json_renderer_is_lossless_and_safe_for_surrogates_and_control_characters() -> None:
    stream = io.StringIO()
    event = ToolFinished(step=1, call_id="c", name="bash", ok=True, output=HOSTILE, seconds=0.0)
    JsonRenderer(stream)(event)
    line = stream.getvalue()
    line.encode("utf-8")  # strict: no lone surrogate reaches stdout
    assert RAW.search(line) is None
    assert event_from_dict(json.loads(line)) == event


def test_emoji_codes_from_outside_stay_literal() -> None:
    """':white_check_mark:' in tool output printed as a check mark: the outcome marks could be forged."""
    buffer = io.StringIO()
    renderer = RichRenderer(Console(file=buffer, width=300, color_system=None))  # emoji on, as a console defaults
    renderer(ToolFinished(step=1, call_id="c", name="bash", ok=False, output=":white_check_mark: :x: all good",
                          seconds=0.1))
    renderer(dataclasses.replace(SAMPLES["run_finished"], message=":warning: fine"))  # type: ignore[type-var]
    renderer.show_patch("diff --git a/:x: b/:x:\n--- a/:x:\n+++ b/:x:\n@@ -1 +1 @@\n-a\n+b :smile:\n")
    shown = buffer.getvalue()
    assert ":white_check_mark: :x: all good" in shown and ":warning: fine" in shown and "+b :smile:" in shown
    assert "✅" not in shown and "❌" not in shown and "⚠" not in shown and "😄" not in shown
