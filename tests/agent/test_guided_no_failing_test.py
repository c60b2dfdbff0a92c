"""The guided strategy when no test fails (issue 16, must-have 5 and the no-failing-test half of 2): a test the model
writes to reproduce the issue is kept only if it fails on the current code; otherwise the model chooses the function to
change among those the issue names, and the fix is reported as untested. Scripted model, real sandboxes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from coder.agent import Agent
from coder.config import Config
from coder.events import CandidateTried, RunFinished
from coder.sandboxes.base import Sandbox
from coder.task import Task
from coder.testing import ScriptedModel, call, reply

CURRENT: dict[str, Any] = {}
CALC = {"calc.py": "def add(a, b):\n    return a - b\n\n\ndef mul(a, b):\n    return a * b\n",
        "tests/test_calc.py": "from calc import mul\n\n\ndef test_mul():\n    assert mul(2, 3) == 6\n"}
REPRO_ISSUE = "add() subtracts:\n```python\n>>> from calc import add\n>>> add(2, 3)\n-1\n```\n"
GOOD = "The function subtracts instead of adding.\n```python\ndef add(a, b):\n    return a + b\n```\n"
FAILING_TEST = "```python\nfrom calc import add\n\n\ndef test_add_adds():\n    assert add(2, 3) == 5\n```\n"
PASSING_TEST = "```python\nfrom calc import mul\n\n\ndef test_mul_again():\n    assert mul(1, 1) == 1\n```\n"
BROKEN_TEST = "```python\nfrom calc import nothing_here\n\n\ndef test_it():\n    assert nothing_here()\n```\n"
WRONG = "Maybe this.\n```python\ndef add(a, b):\n    return b - a\n```\n"


@pytest.fixture(autouse=True)
def _every_sandbox(sandbox: Sandbox, sandbox_kind: str) -> None:
    CURRENT["sandbox"] = sandbox


def run(repo: Path, tmp_path: Path, steps: list[Any], issue: str, **guided: Any) -> tuple[list[Any], ScriptedModel]:
    config = Config.model_validate({"agent": {"strategy": "guided"},
                                    "guided": {"candidates": 2, "rounds": 1, **guided}})
    model = ScriptedModel(steps)
    events = list(Agent(model, CURRENT["sandbox"], config, trajectory_dir=tmp_path / "t").run(Task(repo=repo,
                                                                                                issue=issue)))
    return events, model


def test_a_reproducing_test_that_fails_drives_the_repair_and_stays_in_the_patch(make_repo: Any,
                                                                                tmp_path: Path) -> None:
    repo = make_repo(CALC)
    events, model = run(repo, tmp_path, [FAILING_TEST, GOOD], REPRO_ISSUE)
    model.assert_consumed()
    asked = model.calls[0][-1].content
    assert "def test_mul" in asked and "tests/test_coder_repro.py" in asked  # the example file and the path to write
    assert "def add(a, b)" in asked
    repair_prompt = model.calls[1][-1].content
    assert "def test_add_adds" in repair_prompt and "assert" in repair_prompt  # the new test and its failure
    tried = [e for e in events if isinstance(e, CandidateTried)]
    assert [t.verdict for t in tried] == ["accepted"] and tried[0].fixed == 1
    final = events[-1]
    assert isinstance(final, RunFinished) and final.status == "resolved", final.message
    assert "tests/test_coder_repro.py::test_add_adds" in final.fail_to_pass
    assert "+++ b/tests/test_coder_repro.py" in final.patch and "+    return a + b" in final.patch
    assert final.test_files == ("tests/test_coder_repro.py",)  # flagged like any test file the patch changes
    assert "reproduces the issue" in final.message
    assert (repo / "calc.py").read_text() == CALC["calc.py"]  # the user's tree is untouched until they accept


def test_tests_that_pass_or_break_on_the_current_code_are_not_kept(make_repo: Any, tmp_path: Path) -> None:
    """Neither attempt reproduces the bug: the run goes on against the existing suite and says the fix is untested."""
    repo = make_repo(CALC)
    events, model = run(repo, tmp_path, [PASSING_TEST, BROKEN_TEST, GOOD], REPRO_ISSUE)
    model.assert_consumed()
    assert model.sampling_seen[0]["temperature"] == 0.0 and model.sampling_seen[1]["temperature"] > 0
    final = events[-1]
    assert final.status == "resolved" and "untested" in final.message, final.message
    assert "no test written reproduces the issue (its tests errored instead of failing)" in final.message
    assert "test_coder_repro" not in final.patch and "+    return a + b" in final.patch
    assert final.test_files == ()


def test_a_kept_test_is_taken_out_again_when_no_candidate_is_accepted(make_repo: Any, tmp_path: Path) -> None:
    repo = make_repo(CALC)
    events, _ = run(repo, tmp_path, [FAILING_TEST, WRONG, WRONG.replace("b - a", "a - b + 0")], REPRO_ISSUE)
    final = events[-1]
    assert final.status == "not_resolved" and "removed again" in final.message, final.message
    assert final.patch == ""


def test_without_a_repro_the_model_chooses_among_the_functions_the_issue_names(make_repo: Any,
                                                                               tmp_path: Path) -> None:
    repo = make_repo(CALC)
    issue = "Totals are off: `mul()` looks fine to me but `add()` gives odd numbers."
    events, model = run(repo, tmp_path, [reply("", call("choose_function", function="calc.py:add")), GOOD], issue)
    model.assert_consumed()
    assert model.tools_seen[0] == ["choose_function"] and model.tools_seen[1] == []
    listing = model.calls[0][-1].content
    assert "calc.py:add: def add(a, b):" in listing and "calc.py:mul: def mul(a, b):" in listing
    assert "def add(a, b):\n    return a - b" in model.calls[1][-1].content
    assert "def mul" not in model.calls[1][-1].content  # the chosen function alone comes first
    final = events[-1]
    assert final.status == "resolved" and "the model chose calc.py:add" in final.message, final.message
    assert "untested" in final.message


def test_a_choice_naming_no_listed_function_keeps_the_ranking(make_repo: Any, tmp_path: Path) -> None:
    repo = make_repo(CALC)
    issue = "Totals are off: `add()` or `mul()` is wrong."
    events, model = run(repo, tmp_path, ["I am not sure.", GOOD], issue)
    model.assert_consumed()
    assert "kept the ranking" in events[-1].message


def test_repro_tries_zero_never_asks_for_a_test(make_repo: Any, tmp_path: Path) -> None:
    repo = make_repo(CALC)
    events, model = run(repo, tmp_path, [GOOD], REPRO_ISSUE, repro_tries=0)
    model.assert_consumed()
    assert events[-1].status == "resolved" and "untested" in events[-1].message
