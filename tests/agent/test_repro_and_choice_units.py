"""Units of guided repair's no-failing-test path: when an issue shows a repro, where a reproducing test file goes, and
how a choice is read from a reply."""

from __future__ import annotations

import pytest

from coder.agent.choose import choice_tool, chosen
from coder.agent.repro import gives_repro, repro_path
from coder.testing import call, reply


@pytest.mark.parametrize("issue, shows", [
    ("add() is wrong:\n```python\nadd(2, 3)\n```", True),
    ("In the REPL:\n>>> add(2, 3)\n-1", True),
    ("It crashes:\nTraceback (most recent call last):\n  File \"x.py\", line 1", True),
    ("Run this:\n  $ mytool --list\nand it prints nothing", True),
    ("The totals are wrong since last week; costs $5 more.", False),
    ("add() returns the wrong result", False),
])
def test_an_issue_shows_a_repro_when_it_holds_code_a_session_a_traceback_or_a_command(issue: str, shows: bool) -> None:
    assert gives_repro(issue) is shows


@pytest.mark.parametrize("example, expected", [
    ("tests/test_calc.py", "tests/test_coder_repro.py"),
    ("pkg/mail/queue_test.go", "pkg/mail/coder_repro_test.go"),
    ("test/ring.test.js", "test/coder_repro.test.js"),
    ("src/app.spec.ts", "src/coder_repro.spec.ts"),
    ("src/test/java/x/RingTest.java", "src/test/java/x/CoderReproTest.java"),
    ("spec/parser_spec.rb", "spec/coder_repro_spec.rb"),
    ("tests/helpers.py", "tests/test_coder_repro.py"),
])
def test_a_reproducing_test_follows_the_example_files_naming_so_the_same_runner_finds_it(example: str,
                                                                                         expected: str) -> None:
    assert repro_path(example, lambda _: False) == expected


def test_a_taken_name_is_numbered() -> None:
    taken = {"tests/test_coder_repro.py", "tests/test_coder_repro2.py"}
    assert repro_path("tests/test_calc.py", taken.__contains__) == "tests/test_coder_repro3.py"


def test_the_choice_tool_admits_only_the_listed_functions() -> None:
    schema = choice_tool(["a.py:f", "b.py:g"])["function"]["parameters"]
    assert schema["properties"]["function"]["enum"] == ["a.py:f", "b.py:g"] and schema["required"] == ["function"]


def test_a_choice_is_read_from_the_call_else_from_the_first_label_the_text_names() -> None:
    labels = ["a.py:f", "b.py:g"]
    assert chosen(reply("", call("choose_function", function="b.py:g")), labels) == "b.py:g"
    assert chosen(reply("", call("choose_function", function="c.py:h")), labels) is None
    assert chosen(reply("Probably b.py:g, maybe a.py:f."), labels) == "b.py:g"
    assert chosen(reply("No idea."), labels) is None


def test_on_the_bundled_runtime_the_grammar_admits_only_the_listed_names() -> None:
    from coder.runtime.grammar import tool_call_grammar

    grammar = tool_call_grammar([choice_tool(["calc.py:add", "calc.py:mul"])], max_text_chars=600,
                                max_string_chars=None, max_array_items=32, styles=("tagged", "fenced", "bare"))
    rule = next(line for line in grammar.splitlines() if line.startswith("choose-function-args-function ::="))
    assert rule.split("::=")[1].strip() == '"\\"calc.py:add\\"" | "\\"calc.py:mul\\""'
