"""The guided strategy driven by a scripted model replying with fenced functions, on real sandboxes: localize, rewrite
whole functions, let the tests judge each candidate, keep the smallest accepted one (issue 16)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from coder.agent import Agent
from coder.config import Config
from coder.events import CandidateTried, LimitReached, ModelReplied, RunFinished, TestsRan
from coder.runtime.reply_grammar import fenced_code_grammar
from coder.sandboxes.base import Sandbox
from coder.task import Task
from coder.testing import ScriptedModel, call, reply
from repo_helpers import tree_snapshot

CURRENT: dict[str, Any] = {}

GOOD = "The function subtracts instead of adding.\n```python\ndef add(a, b):\n    return a + b\n```\n"
BREAKS_MUL = ("Both are wrong.\n```python\ndef add(a, b):\n    return a + b\n\n\ndef mul(a, b):\n    return a + b\n```\n")
NO_CODE = "I think add is wrong, you should make it add."
UNPARSABLE = "Fixed:\n```python\ndef add(a, b:\n    return a + b\n```\n"
WRONG = "Maybe this.\n```python\ndef add(a, b):\n    return b - a\n```\n"
TEST_REWRITTEN = "The test is wrong.\n```python\ndef test_add():\n    assert add(2, 3) == -1\n```\n"
SAME = "It looks right.\n```python\ndef add(a, b):\n    return a - b\n```\n"


@pytest.fixture(autouse=True)
def _every_sandbox(sandbox: Sandbox, sandbox_kind: str) -> None:
    """Every test here runs once on the local sandbox and once on Docker."""
    CURRENT["sandbox"], CURRENT["kind"] = sandbox, sandbox_kind


def run(repo: Path, tmp_path: Path, steps: list[Any], issue: str = "add() returns the wrong result",
        **overrides: Any) -> tuple[list[Any], ScriptedModel]:
    config = Config.model_validate({"agent": {"strategy": "guided"}, **overrides})
    model = ScriptedModel(steps)
    agent = Agent(model, CURRENT["sandbox"], config, trajectory_dir=tmp_path / "traj")
    events = list(agent.run(Task(repo=repo, issue=issue)))
    return events, model


def of(events: list[Any], kind: type) -> list[Any]:
    return [e for e in events if isinstance(e, kind)]


def test_a_good_candidate_is_accepted_and_becomes_the_patch(buggy_repo: Path, tmp_path: Path) -> None:
    before = tree_snapshot(buggy_repo)
    events, model = run(buggy_repo, tmp_path, [GOOD])
    model.assert_consumed()
    final = events[-1]
    assert isinstance(final, RunFinished) and final.status == "resolved", final.message
    assert "+    return a + b" in final.patch and "tests/" not in final.patch
    assert final.fail_to_pass == ("tests/test_calc.py::test_add",) and final.pass_to_fail == ()
    tried = of(events, CandidateTried)
    assert [(c.verdict, c.fixed, c.failing, c.broken) for c in tried] == [("accepted", 1, 1, 0)]
    assert tried[0].functions == ("calc.py:add",)
    assert "candidate 1 of 1" in final.message and "fixed 1 of 1" in final.message
    assert model.sampling_seen[0] is not None and model.sampling_seen[0]["temperature"] == 0.0  # greedy first
    assert model.sampling_seen[0]["stop"] == ["```\n\n"]  # no prose after the code
    prompt = model.calls[0][-1].content
    assert "def add(a, b):\n    return a - b" in prompt  # the function, whole
    assert "def test_add" in prompt and "assert" in prompt  # the failing test and its failure
    assert model.tools_seen[0] == []  # code in a fence, no JSON tools
    assert [e.phase for e in of(events, TestsRan)] == ["baseline", "final"]
    assert tree_snapshot(buggy_repo) == before  # the user's repo is untouched


def test_malformed_and_breaking_candidates_are_not_kept(buggy_repo: Path, tmp_path: Path) -> None:
    steps = [NO_CODE, NO_CODE, UNPARSABLE, BREAKS_MUL, WRONG, GOOD]  # a reply without code is asked for it once
    events, model = run(buggy_repo, tmp_path, steps, guided={"candidates": 6, "rounds": 1})
    model.assert_consumed()
    tried = of(events, CandidateTried)
    assert [c.verdict for c in tried] == ["discarded", "discarded", "rejected", "rejected", "accepted"]
    assert tried[0].reason == "the reply holds no code block"
    assert "does not parse" in tried[1].reason
    assert tried[2].broken == 1 and "breaks 1 passing test" in tried[2].reason
    # The candidate that fixed add but broke mul is mended at once, greedy (WRONG's prompt shows it).
    assert [s["temperature"] for s in model.sampling_seen if s] == [0.0, 0.0, 0.8, 0.8, 0.0, 0.8]
    assert "but it broke 1 test that passed before" in model.calls[4][-1].content
    assert len({s.get("seed") for s in model.sampling_seen[2:] if s and s["temperature"]}) == 3  # each its own seed
    final = events[-1]
    assert final.status == "resolved" and "candidate 5 of 5" in final.message
    assert "-    return a * b" not in final.patch  # the breaking candidate left nothing behind


def test_the_seed_setting_moves_every_sampled_candidates_seed(buggy_repo: Path, tmp_path: Path) -> None:
    _, model = run(buggy_repo, tmp_path, [WRONG, NO_CODE, NO_CODE, GOOD], guided={"candidates": 3, "rounds": 1, "seed": 2})
    assert [s.get("seed") for s in model.sampling_seen if s] == [None, 2002, 2002, 2003]


def test_the_bundled_runtime_is_asked_for_a_reply_that_holds_code(buggy_repo: Path, tmp_path: Path) -> None:
    local = run(buggy_repo, tmp_path, [GOOD])[1].sampling_seen[0] or {}
    assert local["grammar"] == fenced_code_grammar()  # the bundled runtime (provider "local", the default)
    endpoint = run(buggy_repo, tmp_path, [GOOD], model={"provider": "openai_compat"})[1].sampling_seen[0] or {}
    off = run(buggy_repo, tmp_path, [GOOD], guided={"code_grammar": False})[1].sampling_seen[0] or {}
    assert "grammar" not in endpoint and "grammar" not in off  # other servers may not take llama.cpp's GBNF


def test_a_reply_with_only_a_diagnosis_is_asked_for_the_code(buggy_repo: Path, tmp_path: Path) -> None:
    events, model = run(buggy_repo, tmp_path, [NO_CODE, GOOD], guided={"candidates": 1, "rounds": 1})
    model.assert_consumed()
    assert [c.verdict for c in of(events, CandidateTried)] == ["accepted"]
    asked = model.calls[1]
    assert asked[-2].role == "assistant" and asked[-2].content == NO_CODE
    assert "fenced ```python code block" in asked[-1].content
    assert events[-1].status == "resolved" and events[-1].steps == 2


def test_a_reply_with_the_code_unchanged_is_discarded_without_asking_again(buggy_repo: Path, tmp_path: Path) -> None:
    """The shown code copied back changes nothing: it is discarded, and the next candidate starts from a fresh prompt
    (told so in the same conversation, 1.5B and 0.5B copied it again or fixed nothing in all 70 cases measured)."""
    events, model = run(buggy_repo, tmp_path, [SAME, GOOD], guided={"candidates": 2, "rounds": 1})
    model.assert_consumed()
    tried = of(events, CandidateTried)
    assert [c.verdict for c in tried] == ["discarded", "accepted"] and "same as the file's" in tried[0].reason
    assert all(m.role != "assistant" for m in model.calls[1])  # a fresh prompt, not a follow-up
    assert events[-1].status == "resolved"


def test_a_reply_that_rewrites_the_test_instead_is_discarded_without_asking_again(buggy_repo: Path,
                                                                                 tmp_path: Path) -> None:
    events, model = run(buggy_repo, tmp_path, [TEST_REWRITTEN, GOOD], guided={"candidates": 2, "rounds": 1})
    model.assert_consumed()
    tried = of(events, CandidateTried)
    assert [c.verdict for c in tried] == ["discarded", "accepted"] and "none of the reply's definitions" in tried[0].reason
    assert all(m.role != "assistant" for m in model.calls[1])  # a fresh prompt, not a follow-up


def test_a_reply_cut_at_the_stop_after_its_code_is_a_whole_candidate(buggy_repo: Path, tmp_path: Path) -> None:
    cut = GOOD[: GOOD.rindex("```")]  # what the server returns when it stops at the closing fence
    events, _ = run(buggy_repo, tmp_path, [cut])
    assert events[-1].status == "resolved", events[-1].message


def test_a_duplicate_is_not_run_again(buggy_repo: Path, tmp_path: Path) -> None:
    events, model = run(buggy_repo, tmp_path, [WRONG, WRONG.replace("b - a", "b - a  "), GOOD],
                        guided={"candidates": 3, "rounds": 1})
    assert [c.verdict for c in of(events, CandidateTried)] == ["rejected", "duplicate", "accepted"]


def test_when_nothing_passes_a_feedback_round_shows_the_best_attempt(buggy_repo: Path, tmp_path: Path) -> None:
    events, model = run(buggy_repo, tmp_path, [WRONG, NO_CODE, NO_CODE, GOOD], guided={"candidates": 2, "rounds": 2})
    model.assert_consumed()
    assert [c.verdict for c in of(events, CandidateTried)] == ["rejected", "discarded", "accepted"]
    feedback = model.calls[3][-1].content
    assert "An earlier attempt" in feedback and "return b - a" in feedback
    assert events[-1].status == "resolved"


def test_a_candidate_that_fixes_but_breaks_is_mended_at_once(buggy_repo: Path, tmp_path: Path) -> None:
    """A near miss (it fixes the failing test and breaks a passing one) is shown in the very next prompt, with the
    test it broke and that test's failure, and is preferred to an attempt that fixes nothing."""
    steps = [WRONG, BREAKS_MUL, GOOD]
    events, model = run(buggy_repo, tmp_path, steps, guided={"candidates": 4, "rounds": 1})
    model.assert_consumed()
    tried = of(events, CandidateTried)
    assert [(c.verdict, c.fixed, c.broken) for c in tried] == [("rejected", 0, 0), ("rejected", 1, 1),
                                                               ("accepted", 1, 0)]
    mend = model.calls[2]
    assert len(mend) == 3 and "An earlier attempt" in mend[-1].content
    assert "return a + b\n\n\ndef mul" in mend[-1].content  # the near miss, not the first attempt (b - a)
    assert "fixed 1 of 1 failing test, but it broke 1 test that passed before: tests/test_calc.py::test_mul" \
        in mend[-1].content
    assert "test_mul" in mend[-1].content.split("It fails with:")[1]  # the broken test's own failure
    assert model.sampling_seen[2] is not None and model.sampling_seen[2]["temperature"] == 0.0
    assert events[-1].status == "resolved" and "candidate 3 of 3" in events[-1].message


def test_a_mend_that_copies_the_near_miss_back_is_a_duplicate(buggy_repo: Path, tmp_path: Path) -> None:
    events, model = run(buggy_repo, tmp_path, [BREAKS_MUL, BREAKS_MUL, GOOD], guided={"candidates": 3, "rounds": 1})
    model.assert_consumed()
    assert [c.verdict for c in of(events, CandidateTried)] == ["rejected", "duplicate", "accepted"]
    assert "An earlier attempt" in model.calls[1][-1].content and len(model.calls[2]) == 2
    assert events[-1].status == "resolved"


def test_no_candidate_accepted_ends_not_resolved_with_the_best_attempt(buggy_repo: Path, tmp_path: Path) -> None:
    events, _ = run(buggy_repo, tmp_path, [WRONG, NO_CODE, NO_CODE], guided={"candidates": 2, "rounds": 1})
    final = events[-1]
    assert final.status == "not_resolved" and final.patch == ""
    assert "no candidate the tests accept after 2" in final.message and "fixed 0 of 1" in final.message


def test_the_step_budget_ends_the_run_as_limit_reached(buggy_repo: Path, tmp_path: Path) -> None:
    events, model = run(buggy_repo, tmp_path, [WRONG, WRONG.replace("b - a", "a * b")],
                        guided={"candidates": 4, "rounds": 1}, limits={"max_steps": 2})
    assert len(model.calls) == 2
    assert events[-1].status == "limit_reached" and "steps limit reached" in events[-1].message
    assert len(of(events, ModelReplied)) == 2
    assert [(e.limit, e.value, e.maximum) for e in of(events, LimitReached)] == [("steps", 2, 2)]


def test_a_reply_with_a_function_of_another_ranked_file_is_applied_there(make_repo: Any, tmp_path: Path) -> None:
    """Small models answer with the function the issue names, whatever file was shown: the candidate goes to the
    ranked file that defines it."""
    repo = make_repo({
        "shop/prices.py": "def net(amount):\n    return amount\n\n\ndef gross(amount):\n    return amount * 1.2\n",
        "shop/cart.py": "from shop.prices import gross\n\n\ndef total(items):\n    return sum(gross(i) for i in items[1:])\n",
        "tests/test_cart.py": "from shop.cart import total\n\n\ndef test_total():\n    assert total([10, 10]) == 24\n",
        "shop/__init__.py": "",
    })
    fixed_total = "The first item is skipped.\n```python\ndef total(items):\n    return sum(gross(i) for i in items)\n```\n"
    events, model = run(repo, tmp_path, [fixed_total], issue="the cart total with gross() prices is too low",
                        guided={"candidates": 3, "rounds": 1})
    assert "(shop/prices.py)" in model.calls[0][-1].content  # the issue names gross(): its file is shown first
    tried = of(events, CandidateTried)
    assert tried[0].verdict == "accepted" and tried[0].functions == ("shop/cart.py:total",), tried
    assert events[-1].status == "resolved" and "shop/cart.py" in events[-1].patch


def test_a_follow_up_after_a_guided_turn_continues_in_the_tool_loop(buggy_repo: Path, tmp_path: Path) -> None:


    model = ScriptedModel([GOOD, reply("", call("bash", command="echo '# checked' >> calc.py")),
                           reply("", call("submit", summary="noted"))])
    config = Config.model_validate({"agent": {"strategy": "guided"}})
    agent = Agent(model, CURRENT["sandbox"], config, trajectory_dir=tmp_path / "traj")
    with agent.session(Task(repo=buggy_repo, issue="add() returns the wrong result")) as session:
        first = list(session.start())
        assert first[-1].status == "resolved" and of(first, CandidateTried)
        second = list(session.follow_up("also mark the file as checked"))
    model.assert_consumed()
    assert model.tools_seen[0] == [] and "bash" in model.tools_seen[1]  # guided first, then the tool loop
    final = second[-1]
    assert final.status == "resolved" and "+# checked" in final.patch and "+    return a + b" in final.patch


def test_a_model_that_answers_after_the_wall_time_limit_ends_the_run_as_limit_reached(buggy_repo: Path,
                                                                                      tmp_path: Path) -> None:
    """Not as a model error: the eval would count that as an infrastructure failure and run it again."""
    import time

    from coder.models.base import ModelError

    def too_late(messages: Any) -> Any:
        time.sleep(6)
        raise ModelError("model endpoint did not answer within the time the run had left (timeout)")

    events, model = run(buggy_repo, tmp_path, [too_late], guided={"candidates": 4, "rounds": 1},
                        limits={"max_wall_seconds": 5})
    assert len(model.calls) == 1 and not of(events, ModelReplied)  # the run was waiting for the model
    assert events[-1].status == "limit_reached", events[-1].message
    assert [e.limit for e in of(events, LimitReached)] == ["wall_time"]


TWO_BUGS = {
    "calc.py": "def add(a, b):\n    return a - b\n\n\ndef mul(a, b):\n    return a + b\n",
    "tests/test_calc.py": "from calc import add, mul\n\n\ndef test_add():\n    assert add(2, 3) == 5\n\n\n"
                          "def test_mul():\n    assert mul(2, 3) == 6\n",
}
MUL = "mul adds.\n```python\ndef mul(a, b):\n    return a * b\n```\n"


def test_a_partial_fix_is_kept_and_the_next_round_builds_on_it(make_repo: Any, tmp_path: Path) -> None:
    """Fixing one of two failing tests is accepted (nothing broke) but is not the end: the next round starts from it,
    localized anew from the test still failing, and the patch holds both fixes."""
    repo = make_repo(TWO_BUGS)
    events, model = run(repo, tmp_path, [GOOD, MUL], guided={"candidates": 1, "rounds": 2})
    model.assert_consumed()
    tried = of(events, CandidateTried)
    assert [(t.verdict, t.fixed, t.failing) for t in tried] == [("accepted", 1, 2), ("accepted", 1, 1)]
    second = model.calls[1][-1].content
    assert "def mul(a, b):\n    return a + b" in second and "test_mul" in second and "test_add" not in second
    assert model.sampling_seen[1]["temperature"] == 0.0  # a fresh prompt starts greedy
    final = events[-1]
    assert final.status == "resolved", final.message
    assert "candidates 1 and 2, each built on the one before, of 2" in final.message
    assert "fixed 2 of 2 failing test(s)" in final.message
    assert "+    return a + b" in final.patch and "+    return a * b" in final.patch
    assert set(final.fail_to_pass) == {"tests/test_calc.py::test_add", "tests/test_calc.py::test_mul"}


def test_a_partial_fix_is_built_on_at_once_with_the_rest_of_the_budget(make_repo: Any, tmp_path: Path) -> None:
    """A partial fix in the middle of a round does not wait for the round to end: the next candidate already starts
    from it (greedy, localized anew), so one round can fix a bug in two places."""
    repo = make_repo(TWO_BUGS)
    events, model = run(repo, tmp_path, [GOOD, MUL], guided={"candidates": 3, "rounds": 1})
    model.assert_consumed()
    tried = of(events, CandidateTried)
    assert [(t.index, t.total, t.verdict, t.failing) for t in tried] == [(1, 3, "accepted", 2), (2, 3, "accepted", 1)]
    assert model.sampling_seen[1]["temperature"] == 0.0
    second = model.calls[1][-1].content
    assert "def mul(a, b):\n    return a + b" in second and "test_add" not in second
    final = events[-1]
    assert final.status == "resolved", final.message
    assert "candidates 1 and 2, each built on the one before, of 2" in final.message


WORKAROUND = {
    "calc.py": "def items(n):\n    return list(range(n - 1))\n\n\ndef count(n):\n    return len(items(n))\n",
    "tests/test_calc.py": "from calc import count, items\n\n\ndef test_count():\n    assert count(3) == 3\n\n\n"
                          "def test_items():\n    assert items(3) == [0, 1, 2]\n",
}
PATCH_CALLER = "count is one short.\n```python\ndef count(n):\n    return len(items(n)) + 1\n```\n"
FIX_CALLEE = "items drops the last.\n```python\ndef items(n):\n    return list(range(n))\n```\n"


def test_a_kept_workaround_is_dropped_for_a_fix_that_does_more_on_the_original_code(make_repo: Any,
                                                                                     tmp_path: Path) -> None:
    """A partial fix kept may be a workaround in a caller; the real fix in the callee then breaks the test the
    workaround fixed. Judged again on the original code it fixes more than the workaround did, so the workaround is
    dropped and the patch holds the real fix alone."""
    repo = make_repo(WORKAROUND)
    events, model = run(repo, tmp_path, [PATCH_CALLER, FIX_CALLEE], guided={"candidates": 3, "rounds": 1})
    model.assert_consumed()
    tried = of(events, CandidateTried)
    assert [(t.verdict, t.fixed, t.failing) for t in tried] == [("accepted", 1, 2), ("accepted", 2, 2)]
    final = events[-1]
    assert final.status == "resolved", final.message
    assert "candidate 2 of 2" in final.message and "partial fix kept before it (candidate 1), which was dropped" \
        in final.message
    assert "+    return list(range(n))" in final.patch and "+ 1" not in final.patch


def test_a_later_candidate_that_undoes_a_kept_fix_breaks_a_test(make_repo: Any, tmp_path: Path) -> None:
    """After a partial fix is kept, the tests it fixed count as passing: a candidate that undoes it is rejected, and
    the run ends with the partial fix alone."""
    repo = make_repo(TWO_BUGS)
    undo = "Both.\n```python\ndef add(a, b):\n    return a - b\n\n\ndef mul(a, b):\n    return a * b\n```\n"
    events, _ = run(repo, tmp_path, [GOOD, undo], guided={"candidates": 1, "rounds": 2})
    tried = of(events, CandidateTried)
    assert [(t.verdict, t.broken) for t in tried] == [("accepted", 0), ("rejected", 1)]
    final = events[-1]
    assert final.status == "not_resolved" and "candidate 1 of 2" in final.message, final.message
    assert "fixed 1 of 2" in final.message and "+    return a + b" in final.patch and "a * b" not in final.patch


def test_the_last_widening_shows_each_caller_of_the_top_function(make_repo: Any) -> None:
    """The top-ranked function may be right and its caller wrong: after the ranked files, a prompt shows each caller
    (found with find_references and the file's outline, tests left out)."""
    from coder.agent.repair_context import Ranked, RepairContext, callers
    from coder.sandboxes.base import WorkspaceOptions

    repo = make_repo({
        "shop/prices.py": "def gross(amount):\n    return amount * 1.2\n",
        "shop/report.py": "from shop.prices import gross\n\n\nclass Report:\n    def line(self, amount):\n"
                          "        return f'{gross(amount - 1):.2f}'\n\n\ndef unrelated():\n    return 1\n",
        "tests/test_prices.py": "from shop.prices import gross\n\n\ndef test_gross():\n    assert gross(10) == 12\n",
    })
    top = Ranked("shop/prices.py", "gross", "def gross(amount):\n    return amount * 1.2", 1.0)
    with CURRENT["sandbox"].open(repo, WorkspaceOptions()) as session:
        found = callers(session, top)
    assert [(c.path, c.name) for c in found] == [("shop/report.py", "Report.line")]
    assert found[0].text.startswith("    def line(self, amount):") and "gross(amount - 1)" in found[0].text
    context = RepairContext("", ("t",), "", [], [top], "", found)
    assert [t.path for t in context.targets(3)] == ["shop/prices.py", "shop/report.py"]
    assert context.targets(3)[-1].functions[0][0] == "Report.line"


def test_the_failing_tests_are_shown_for_every_runner(make_repo: Any) -> None:
    """A prompt shows the failing tests' source for pytest, node and go ids alike; the subtests or parametrized cases
    of one test function show it once."""
    from coder.agent.repair_context import failing_tests
    from coder.sandboxes.base import WorkspaceOptions

    repo = make_repo({
        "go.mod": "module example.com/news\n\ngo 1.19\n",
        "text/cut_test.go": "package text\n\nimport \"testing\"\n\nfunc TestCut(t *testing.T) {\n"
                            "\tt.Run(\"umlauts\", func(t *testing.T) {})\n\tt.Run(\"kana\", func(t *testing.T) {})\n}\n",
        "test/slug.test.js": "describe('slug', () => {\n  it('strips accents', () => {\n"
                             "    assert.equal(slug('é'), 'e');\n  });\n});\n",
        "tests/test_calc.py": "import pytest\n\n\n@pytest.mark.parametrize('n', [1, 2])\ndef test_n(n):\n"
                              "    assert n\n",
    })
    ids = ["example.com/news/text::TestCut/kana", "example.com/news/text::TestCut/umlauts",
           "test/slug.test.js::slug > strips accents", "tests/test_calc.py::test_n[1]", "tests/test_calc.py::test_n[2]"]
    with CURRENT["sandbox"].open(repo, WorkspaceOptions()) as session:
        shown = failing_tests(session, ids, most=5)
    assert [(t["path"], t["language"]) for t in shown] == [
        ("text/cut_test.go", "go"), ("test/slug.test.js", "javascript"), ("tests/test_calc.py", "python")]
    assert shown[0]["text"].startswith("func TestCut(t *testing.T) {") and "kana" in shown[0]["text"]
    assert shown[1]["text"] == "  it('strips accents', () => {\n    assert.equal(slug('é'), 'e');\n  })"
    assert shown[2]["text"].startswith("@pytest.mark.parametrize")


def test_a_short_file_is_shown_whole_after_its_top_function(make_repo: Any) -> None:
    """After the top function and the top ones of its file, a prompt shows the file whole when it is short (a constant
    or constructor next to the ranked functions may hold the bug)."""
    from coder.agent.repair_context import gather, repair_messages
    from coder.sandboxes.base import WorkspaceOptions

    short = "LIMIT = 1\n\n\ndef add(a, b):\n    return a + b + LIMIT\n\n\ndef mul(a, b):\n    return a * b\n"
    repo = make_repo({
        "calc.py": short,
        "longer.py": "".join(f"def f{i}():\n    return {i}\n\n\n" for i in range(60)) + "def g():\n    return f1()\n",
        "tests/test_calc.py": "from calc import add\nfrom longer import g\n\n\ndef test_add():\n"
                              "    assert add(1, 2) == 3\n\n\ndef test_g():\n    assert g() == 2\n",
    })
    baseline = {"tests/test_calc.py::test_add": "failed", "tests/test_calc.py::test_g": "failed"}
    with CURRENT["sandbox"].open(repo, WorkspaceOptions()) as session:
        context = gather(session, "", baseline, file_lines=100)
    assert context.files == {"calc.py": short}
    plans = context.targets(3)
    calc = [t for t in plans if t.path == "calc.py"]
    assert [(len(t.functions), bool(t.whole)) for t in calc] == [(1, False), (1, True)]  # only add ran
    longer = [(len(t.functions), bool(t.whole)) for t in plans if t.path == "longer.py"]
    assert longer == [(1, False), (2, False)]  # too long to show whole: its top functions (g, then g and f1)
    prompt = repair_messages(context, calc[1], Config())[-1].content
    assert "The file where the bug most likely is (calc.py), most likely in add:" in prompt and "LIMIT = 1" in prompt
    assert "def mul(a, b):" in prompt


def test_the_whole_file_comes_after_its_top_functions_and_only_when_it_shows_more() -> None:
    from coder.agent.repair_context import Ranked, RepairContext

    a, b = Ranked("x.py", "a", "def a():\n    return b()", 1.0), Ranked("x.py", "b", "def b():\n    return 1", 0.5)
    more = RepairContext("", ("t",), "", [], [a, b], "", [], {"x.py": "N = 1\n\n\n" + a.text + "\n\n\n" + b.text})
    assert [(len(t.functions), bool(t.whole)) for t in more.targets(3)] == [(1, False), (2, False), (2, True)]
    same = RepairContext("", ("t",), "", [], [a, b], "", [], {"x.py": a.text + "\n\n\n" + b.text + "\n"})
    assert [(len(t.functions), bool(t.whole)) for t in same.targets(3)] == [(1, False), (2, False)]


def test_the_tests_shown_are_those_whose_failures_are_shown(make_repo: Any) -> None:
    """Of three failing tests, the prompt shows two failures in the order the runner reported them (node: the file's
    order) and the source of those same two tests, not of the first two ids in sorted order."""
    from coder.agent.repair_context import gather
    from coder.sandboxes.base import WorkspaceOptions

    cases = "".join(f"test('{name}', () => {{\n  assert.strictEqual(add({n}, 1), {n + 1});\n}});\n\n"
                    for n, name in enumerate(("zero", "pair", "alone")))
    repo = make_repo({
        "package.json": '{"name": "calc", "version": "1.0.0", "scripts": {"test": "node --test"}}\n',
        "src/calc.js": "function add(a, b) {\n  return a - b;\n}\n\nmodule.exports = { add };\n",
        "test/calc.test.js": "const test = require('node:test');\nconst assert = require('node:assert');\n"
                             f"const {{ add }} = require('../src/calc.js');\n\n{cases}",
    })
    ids = [f"test/calc.test.js::{name}" for name in ("zero", "pair", "alone")]
    with CURRENT["sandbox"].open(repo, WorkspaceOptions()) as session:
        context = gather(session, "", {test_id: "failed" for test_id in ids})
    assert "::zero" in context.failure and "::pair" in context.failure, context.failure
    assert context.failure.index("::zero") < context.failure.index("::pair"), context.failure
    assert "::alone" not in context.failure
    assert [t["text"].splitlines()[0] for t in context.tests] == ["test('zero', () => {", "test('pair', () => {"]


def test_failures_with_a_message_are_shown_before_those_without() -> None:
    from coder.agent.repair_context import shown_failures

    failures = [{"id": "pkg::TestCut", "message": ""}, {"id": "pkg::TestCut/kana", "message": "got x, want y"},
                "not a failure", {"id": "pkg::TestCut/umlauts", "message": "got a, want b"}]
    assert [f["id"] for f in shown_failures(failures)] == ["pkg::TestCut/kana", "pkg::TestCut/umlauts"]
    order = ["pkg::TestCut/umlauts", "pkg::TestCut"]
    assert [f["id"] for f in shown_failures(failures, order)] == ["pkg::TestCut/umlauts", "pkg::TestCut/kana"]
    assert shown_failures(None) == [] and shown_failures([{"id": 3}]) == [{"id": "3", "message": ""}]


def test_the_most_specific_failing_tests_come_first() -> None:
    """Those that executed the top-ranked function, then those that executed the fewest functions."""
    from coder.agent.repair_context import most_specific

    located = {"functions": [{"name": "f", "failing_tests": ["b", "c", "d"]}],
               "failing_scope": {"a": 1, "b": 5, "c": 2, "d": 2}}
    assert most_specific(["a", "b", "c", "d", "e"], located) == ["c", "d", "b", "a", "e"]
    assert most_specific(["b", "a"], {}) == ["b", "a"]  # nothing known: the order stays


NEWS = {
    "go.mod": "module example.com/news\n\ngo 1.19\n",
    "text/cut.go": "package text\n\n// Cut shortens s to n characters.\nfunc Cut(s string, n int) string {\n"
                   "\tif len(s) <= n {\n\t\treturn s\n\t}\n\treturn s[:n-1] + \"~\"\n}\n",
    "text/cut_test.go": "package text\n\nimport \"testing\"\n\nfunc TestCut(t *testing.T) {\n"
                        "\tif got := Cut(\"Größe\", 4); got != \"Grö~\" {\n\t\tt.Errorf(\"Cut = %q, want %q\", got, \"Grö~\")\n"
                        "\t}\n}\n",
    "feed/feed.go": "package feed\n\nimport \"example.com/news/text\"\n\n// Title is what a notification shows.\n"
                    "func Title(s string) string {\n\tif len(s) <= 10 {\n\t\treturn s\n\t}\n"
                    "\treturn text.Cut(s, 10)\n}\n",
    "feed/feed_test.go": "package feed\n\nimport \"testing\"\n\nfunc TestShortTitle(t *testing.T) {\n"
                         "\tif Title(\"ok\") != \"ok\" {\n\t\tt.Fatal(\"short\")\n\t}\n}\n\n"
                         "func TestLongTitle(t *testing.T) {\n\tif got := Title(\"Überraschung!\"); len([]rune(got)) != 10 {\n"
                         "\t\tt.Fatalf(\"got %q\", got)\n\t}\n}\n",
}


def test_a_unit_test_of_the_top_function_is_shown_before_a_test_through_its_callers(make_repo: Any) -> None:
    """Both failing tests executed the top-ranked function; the one that executed nothing else (a unit test, whose
    failure says what the function should return) is shown first, test and failure alike, though its id sorts last."""
    from coder.agent.repair_context import gather
    from coder.sandboxes.base import WorkspaceOptions

    repo = make_repo(NEWS)
    with CURRENT["sandbox"].open(repo, WorkspaceOptions()) as session:
        baseline = dict(session.call("run_tests", {}).data["tests"])
        context = gather(session, "", baseline)
    assert context.failing == ("example.com/news/feed::TestLongTitle", "example.com/news/text::TestCut"), baseline
    assert (context.ranked[0].path, context.ranked[0].name) == ("text/cut.go", "Cut")
    assert context.failure.startswith("example.com/news/text::TestCut:"), context.failure
    assert [t["path"] for t in context.tests] == ["text/cut_test.go", "feed/feed_test.go"]
