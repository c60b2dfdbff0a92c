"""Tool calls written as text in every shape small Qwen models produce are recovered (or reported as broken)."""

from __future__ import annotations

import pytest

from coder.models.toolcall_parser import loads_lenient, param_types_from_tools, parse_tool_calls


def calls_of(text: str, **kw: object) -> list[tuple[str, dict[str, object], str | None]]:
    return [(c.name, c.arguments, c.parse_error) for c in parse_tool_calls(text, **kw)[1]]  # type: ignore[arg-type]


# ---------------------------------------------------------------- Hermes <tool_call>


def test_hermes_tagged_call_and_visible_text() -> None:
    text = 'Let me look at it.\n<tool_call>\n{"name": "view", "arguments": {"path": "a.py"}}\n</tool_call>'
    visible, calls = parse_tool_calls(text)
    assert visible == "Let me look at it."
    assert [(c.id, c.name, c.arguments, c.parse_error) for c in calls] == [("call_0", "view", {"path": "a.py"}, None)]
    assert '"name": "view"' in calls[0].raw


def test_hermes_missing_closing_tag_keeps_following_prose() -> None:
    visible, calls = parse_tool_calls('<tool_call>{"name": "view", "arguments": {"path": "a.py"}}\nThen {x} happens.')
    assert [(c.name, c.arguments) for c in calls] == [("view", {"path": "a.py"})]
    assert visible == "Then {x} happens."


def test_hermes_missing_closing_tag_at_end() -> None:
    assert calls_of('<tool_call>\n{"name": "run_tests", "arguments": {}}\n') == [("run_tests", {}, None)]


def test_arguments_as_json_string() -> None:
    text = '<tool_call>{"name": "view", "arguments": "{\\"path\\": \\"a.py\\", \\"line\\": 3}"}</tool_call>'
    assert calls_of(text) == [("view", {"path": "a.py", "line": 3}, None)]


def test_parameters_instead_of_arguments() -> None:
    assert calls_of('<tool_call>{"name": "grep", "parameters": {"pattern": "foo"}}</tool_call>') == [
        ("grep", {"pattern": "foo"}, None)
    ]


def test_flattened_arguments_inside_tags() -> None:
    assert calls_of('<tool_call>{"name": "view", "path": "a.py"}</tool_call>') == [("view", {"path": "a.py"}, None)]


def test_openai_style_function_object() -> None:
    inner = '{"type": "function", "function": {"name": "view", "arguments": "{\\"path\\": \\"x\\"}"}}'
    text = f"<tool_call>{inner}</tool_call>"
    assert calls_of(text) == [("view", {"path": "x"}, None)]


def test_several_tagged_calls_get_sequential_ids() -> None:
    text = (
        'First.\n<tool_call>{"name": "a", "arguments": {}}</tool_call>\n'
        '<tool_call>{"name": "b", "arguments": {"x": 1}}</tool_call>\nDone.'
    )
    visible, calls = parse_tool_calls(text)
    assert [(c.id, c.name) for c in calls] == [("call_0", "a"), ("call_1", "b")]
    assert visible == "First.\n\nDone."


def test_two_objects_in_one_tag() -> None:
    text = '<tool_call>\n{"name": "a", "arguments": {}}\n{"name": "b", "arguments": {}}\n</tool_call>'
    assert [c[0] for c in calls_of(text)] == ["a", "b"]


# ---------------------------------------------------------------- bare and fenced JSON


def test_bare_json_in_prose() -> None:
    visible, calls = parse_tool_calls(
        'I will run {"name": "run_tests", "arguments": {}} and then {"name": "view", "arguments": {"path": "b"}} ok'
    )
    assert [(c.name, c.arguments) for c in calls] == [("run_tests", {}), ("view", {"path": "b"})]
    assert visible == "I will run and then ok"


def test_bare_json_list_of_calls() -> None:
    text = '[{"name": "a", "arguments": {}}, {"name": "b", "arguments": {"k": [1, 2]}}]'
    visible, calls = parse_tool_calls(text)
    assert [(c.name, c.arguments) for c in calls] == [("a", {}), ("b", {"k": [1, 2]})]
    assert visible == ""


def test_fenced_json_call() -> None:
    # What the 0.5B model actually answered with (see shared/models.md).
    text = 'I will run the tests.\n```json\n{"name": "run_tests", "arguments": {"path": "tests/"}}\n```'
    visible, calls = parse_tool_calls(text)
    assert [(c.name, c.arguments) for c in calls] == [("run_tests", {"path": "tests/"})]
    assert visible == "I will run the tests."


def test_unlabeled_fence_with_list_of_calls() -> None:
    text = '```\n[{"name": "a", "arguments": {}}, {"name": "b", "arguments": {"x": 1}}]\n```\nafter'
    visible, calls = parse_tool_calls(text)
    assert [(c.name, c.arguments) for c in calls] == [("a", {}), ("b", {"x": 1})]
    assert visible == "after"


def test_fence_with_several_objects() -> None:
    text = '```json\n{"name": "a", "arguments": {}}\n{"name": "b", "arguments": {}}\n```'
    assert [c[0] for c in calls_of(text)] == ["a", "b"]


def test_fenced_code_that_is_not_a_call_stays() -> None:
    text = "Fix:\n```python\ndef f(x):\n    return {'a': x}\n```"
    visible, calls = parse_tool_calls(text)
    assert calls == [] and visible == text


@pytest.mark.parametrize(
    "text",
    [
        'Example config: {"a": 1, "b": [1, 2]}',
        'package.json has {"name": "pkg", "version": "1.0"}',
        '```json\n{"name": "pkg", "dependencies": {}}\n```',
        "Use a dict like {name: value} here.",
        "A set {1, 2} and braces { alone",
        '{"arguments": {"x": 1}}',
    ],
)
def test_prose_json_is_not_a_call(text: str) -> None:
    visible, calls = parse_tool_calls(text)
    assert calls == []
    assert visible == text


# ---------------------------------------------------------------- Qwen3-Coder XML


XML = """<tool_call>
<function=edit>
<parameter=path>
src/a.py
</parameter>
<parameter=line>
12
</parameter>
<parameter=flags>
["a", 1]
</parameter>
<parameter=dry_run>
false
</parameter>
<parameter=new_text>
def f():
    return 1
</parameter>
</function>
</tool_call>"""


def test_qwen3_xml_with_tags_converts_json_looking_values() -> None:
    visible, calls = parse_tool_calls("Editing.\n" + XML)
    assert visible == "Editing."
    assert [(c.name, c.arguments) for c in calls] == [
        (
            "edit",
            {"path": "src/a.py", "line": 12, "flags": ["a", 1], "dry_run": False, "new_text": "def f():\n    return 1"},
        )
    ]


def test_qwen3_xml_without_outer_tags_and_several_calls() -> None:
    text = (
        "text <function=view>\n<parameter=path>\nx.py\n</parameter>\n</function> more "
        "<function=grep><parameter=pattern>foo</parameter><parameter=max>5</parameter></function>"
    )
    visible, calls = parse_tool_calls(text)
    assert [(c.id, c.name, c.arguments) for c in calls] == [
        ("call_0", "view", {"path": "x.py"}),
        ("call_1", "grep", {"pattern": "foo", "max": 5}),
    ]
    assert visible == "text more"


def test_qwen3_xml_missing_closing_tags() -> None:
    text = "<function=view>\n<parameter=path>\nx.py\n<parameter=start>\n3\n"
    assert calls_of(text) == [("view", {"path": "x.py", "start": 3}, None)]


def test_qwen3_xml_schema_keeps_string_params_as_strings() -> None:
    tools = [
        {
            "type": "function",
            "function": {
                "name": "edit",
                "parameters": {
                    "type": "object",
                    "properties": {
                        "old": {"type": "string"},
                        "new": {"anyOf": [{"type": "string"}, {"type": "null"}]},
                        "count": {"type": "integer"},
                    },
                },
            },
        }
    ]
    text = (
        "<function=edit><parameter=old>42</parameter><parameter=new>[1, 2]</parameter>"
        "<parameter=count>2</parameter></function>"
    )
    assert calls_of(text, tools=tools) == [("edit", {"old": "42", "new": "[1, 2]", "count": 2}, None)]
    assert calls_of(text) == [("edit", {"old": 42, "new": [1, 2], "count": 2}, None)]
    assert param_types_from_tools(tools)["edit"]["new"] == {"string", "null"}


def test_qwen3_xml_with_json_body() -> None:
    assert calls_of('<function=view>{"path": "a"}</function>') == [("view", {"path": "a"}, None)]


def test_mixed_shapes_keep_written_order() -> None:
    text = (
        '```json\n{"name": "first", "arguments": {}}\n```\n'
        "<function=second><parameter=a>1</parameter></function>\n"
        '<tool_call>{"name": "third", "arguments": {}}</tool_call>\n'
        '{"name": "fourth", "arguments": {}}'
    )
    visible, calls = parse_tool_calls(text)
    assert [(c.id, c.name) for c in calls] == [
        ("call_0", "first"),
        ("call_1", "second"),
        ("call_2", "third"),
        ("call_3", "fourth"),
    ]
    assert visible == ""


# ---------------------------------------------------------------- repairs and malformed calls


@pytest.mark.parametrize(
    ("body", "args"),
    [
        ('{"name": "v", "arguments": {"path": "a.py",},}', {"path": "a.py"}),  # trailing commas
        ("{'name': 'v', 'arguments': {'path': 'a.py', 'all': True}}", {"path": "a.py", "all": True}),  # Python dict
        ('{"name": "v", "arguments": {"all": True, "n": None}}', {"all": True, "n": None}),  # Python literals
        ('{"name": "v", "arguments": {"text": "line1\nline2\tend"}}', {"text": "line1\nline2\tend"}),  # raw newline
        ('{"name": "v", "arguments": {"pattern": "\\d+\\s"}}', {"pattern": "\\d+\\s"}),  # invalid escapes
        ('{"name": "v", "arguments": {"path": "a.py"}}}', {"path": "a.py"}),  # one brace too many
        ('{"name": "v", "arguments": {"path": "a.py"}', {"path": "a.py"}),  # one brace missing
    ],
)
def test_light_repairs(body: str, args: dict[str, object]) -> None:
    assert calls_of(f"<tool_call>{body}</tool_call>") == [("v", args, None)]


def test_repair_does_not_touch_string_contents() -> None:
    assert loads_lenient('{"a": "True, False, None,}", "b": True,}') == {"a": "True, False, None,}", "b": True}
    assert loads_lenient("{'a': 'it is true', 'b': true}") == {"a": "it is true", "b": True}


def test_broken_json_in_tags_names_the_error_and_keeps_the_name() -> None:
    calls = parse_tool_calls('<tool_call>{"name": "edit", "arguments": {"a": 1 "b": 2}}</tool_call>')[1]
    assert len(calls) == 1
    assert calls[0].name == "edit" and calls[0].arguments == {} and calls[0].id == "call_0"
    assert calls[0].parse_error and "delimiter" in calls[0].parse_error


def test_broken_bare_json_with_clear_call_shape() -> None:
    calls = parse_tool_calls('Running {"name": "x", "arguments": {"a": 1 "b": 2}} now')[1]
    assert [(c.name, bool(c.parse_error)) for c in calls] == [("x", True)]


def test_truncated_inside_string_is_an_error_not_a_short_edit() -> None:
    calls = parse_tool_calls('<tool_call>{"name": "edit", "arguments": {"path": "a.py", "text": "def f(')[1]
    assert calls[0].name == "edit" and calls[0].arguments == {}
    assert calls[0].parse_error and "cut off" in calls[0].parse_error


def test_unreadable_tag_content_gives_nameless_error_call() -> None:
    visible, calls = parse_tool_calls("<tool_call>I want to view the file</tool_call>")
    assert visible == ""
    assert [(c.name, bool(c.parse_error)) for c in calls] == [("", True)]


def test_arguments_string_that_is_not_json() -> None:
    calls = parse_tool_calls('<tool_call>{"name": "view", "arguments": "a.py"}</tool_call>')[1]
    assert calls[0].name == "view" and calls[0].parse_error and "not valid JSON" in calls[0].parse_error


def test_arguments_that_are_not_an_object() -> None:
    calls = parse_tool_calls('<tool_call>{"name": "view", "arguments": ["a.py"]}</tool_call>')[1]
    assert calls[0].parse_error and "JSON object" in calls[0].parse_error


def test_broken_fenced_call_is_reported() -> None:
    calls = parse_tool_calls('```json\n{"name": "view", "arguments": {"path": "a.py" "x": 1}}\n```')[1]
    assert [(c.name, bool(c.parse_error)) for c in calls] == [("view", True)]


def test_stray_tags_and_empty_fences_are_removed() -> None:
    visible, calls = parse_tool_calls('```\n<tool_call>{"name": "a", "arguments": {}}</tool_call>\n```\n</tool_call>')
    assert [c.name for c in calls] == ["a"] and visible == ""


def test_plain_text_is_untouched() -> None:
    text = "  The bug is in `parse()`:\n\n\n\nit returns None.  "
    assert parse_tool_calls(text) == (text, [])


def test_loads_lenient_error_message() -> None:
    with pytest.raises(ValueError, match="line 1 column"):
        loads_lenient('{"a": }')
