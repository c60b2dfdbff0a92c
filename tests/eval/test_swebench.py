"""SWE-bench-style instances: a tiny repository made on the fly, its test_patch applied only when grading, ids given
as JSON strings (as in the official dataset) or lists, and predictions written in SWE-bench's format."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from coder.eval.loading import load_tasks
from coder.eval.plan import EvalPlan
from coder.eval.runner import Evaluation
from coder.eval.swebench import find_clone, load_instances
from coder.eval.taskspec import TaskSpecError
from coder.testing import call, reply
from conftest import RecordingDisplay, scripted_factory
from repo_helpers import git

BUGGY = "def clamp(value, low, high):\n    return max(low, value)\n"
FIXED = "def clamp(value, low, high):\n    return max(low, min(value, high))\n"
TESTS = "from mathx import clamp\n\n\ndef test_below():\n    assert clamp(-5, 0, 10) == 0\n"
TEST_PATCH = """diff --git a/tests/test_mathx.py b/tests/test_mathx.py
--- a/tests/test_mathx.py
+++ b/tests/test_mathx.py
@@ -3,3 +3,7 @@ from mathx import clamp
 
 def test_below():
     assert clamp(-5, 0, 10) == 0
+
+
+def test_above():
+    assert clamp(50, 0, 10) == 10
"""
GOLD = """diff --git a/mathx.py b/mathx.py
--- a/mathx.py
+++ b/mathx.py
@@ -1,2 +1,2 @@
 def clamp(value, low, high):
-    return max(low, value)
+    return max(low, min(value, high))
"""


@pytest.fixture
def swe(tmp_path: Path) -> dict[str, Any]:
    """DIR/acme__mathx: a clone whose base commit is buggy and whose later commit (the fix) must stay invisible."""
    clone = tmp_path / "repos" / "acme__mathx"
    (clone / "tests").mkdir(parents=True)
    (clone / "mathx.py").write_text(BUGGY)
    (clone / "tests" / "test_mathx.py").write_text(TESTS)
    git(clone, "init", "-q")
    git(clone, "add", "-A")
    git(clone, "commit", "-qm", "base")
    base = git(clone, "rev-parse", "HEAD").strip()
    (clone / "mathx.py").write_text(FIXED)
    git(clone, "commit", "-qam", "the fix")
    common = {"repo": "acme/mathx", "base_commit": base, "test_patch": TEST_PATCH, "patch": GOLD,
              "version": "1.0", "created_at": "2024-01-01", "hints_text": ""}
    rows = [{**common, "instance_id": "acme__mathx-1", "problem_statement": "clamp() ignores the upper bound",
             "FAIL_TO_PASS": json.dumps(["tests/test_mathx.py::test_above"]),
             "PASS_TO_PASS": json.dumps(["tests/test_mathx.py::test_below"])},
            {**common, "instance_id": "acme__mathx-2", "problem_statement": "clamp(50, 0, 10) returns 50",
             "FAIL_TO_PASS": ["tests/test_mathx.py::test_above"], "PASS_TO_PASS": "[]"}]
    dataset = tmp_path / "instances.jsonl"
    dataset.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return {"dir": tmp_path / "repos", "dataset": dataset, "base": base}


def test_instances_load_with_both_id_shapes_and_check_out_without_the_test_patch(swe: dict[str, Any],
                                                                               tmp_path: Path) -> None:
    first, second = load_instances(swe["dataset"], swe["dir"])
    assert first.fail_to_pass == ("tests/test_mathx.py::test_above",) and first.pass_to_pass == ("tests/test_mathx.py::test_below",)
    assert second.fail_to_pass == first.fail_to_pass and second.pass_to_pass == ()
    assert first.commit == swe["base"] and first.test_patch == TEST_PATCH and first.issue.startswith("clamp()")
    repo = first.checkout(tmp_path / "co")
    assert (repo / "mathx.py").read_text() == BUGGY and "test_above" not in (repo / "tests/test_mathx.py").read_text()
    assert git(repo, "log", "--all", "--format=%s").splitlines() == ["starting state (" + swe["base"][:12] + ")"]


def test_swebench_eval_grades_with_the_test_patch_and_writes_predictions(swe: dict[str, Any],
                                                                         make_plan: Callable[..., EvalPlan]) -> None:
    tasks = load_tasks([swe["dataset"]], swe["dir"])[:1]

    def fix(t: object, run: int) -> list[object]:
        edit = call("edit_file", "c1", path="mathx.py", command="replace", old="max(low, value)",
                    new="max(low, min(value, high))")
        return [reply("1. Clamp both ends", edit), reply("", call("submit", "c2", summary="clamped"))]

    plan = make_plan(tasks, harnesses=["coder", "gold"], model_factory=scripted_factory({"acme__mathx-1": fix}))
    outcome = Evaluation(plan, RecordingDisplay()).run()
    assert [(r.config, r.resolved) for r in outcome.records] == [("coder/scripted", True), ("gold/reference", True)]
    graded = outcome.records[0].grade
    assert graded.fail_to_pass == {"tests/test_mathx.py::test_above": "passed"}  # exists only through test_patch
    assert "test_above" not in outcome.records[0].patch

    from coder.eval.report import write_reports

    write_reports(plan.out, plan.tasks, plan.all_configs(), outcome.records, 1)
    for name, patch in (("coder_scripted", outcome.records[0].patch), ("gold_reference", GOLD)):
        lines = (plan.out / "predictions" / f"{name}.jsonl").read_text().splitlines()
        assert [json.loads(line) for line in lines] == [
            {"instance_id": "acme__mathx-1", "model_name_or_path": name.replace("_", "/", 1), "model_patch": patch}]


def test_clones_are_found_by_swebench_naming_or_a_mapping(swe: dict[str, Any], tmp_path: Path) -> None:
    assert find_clone("acme/mathx", swe["dir"]) == swe["dir"] / "acme__mathx"
    mapping = tmp_path / "repos.yaml"
    mapping.write_text("acme/mathx: repos/acme__mathx\n")
    assert find_clone("acme/mathx", mapping) == (swe["dir"] / "acme__mathx").resolve()
    with pytest.raises(TaskSpecError, match=r"no local clone of acme/other under .*acme__other"):
        find_clone("acme/other", swe["dir"])
    with pytest.raises(TaskSpecError, match="need a local clone: pass --swe-repos"):
        find_clone("acme/mathx", None)


@pytest.mark.parametrize("row, message", [
    ({"instance_id": "x"}, r"instances.jsonl:1: missing required key 'repo'"),
    ({"instance_id": "x", "repo": "a/b", "base_commit": "abcd", "problem_statement": "p", "FAIL_TO_PASS": "[oops"},
     r"instances.jsonl:1: FAIL_TO_PASS: not a JSON list of test ids"),
])
def test_bad_instances_get_a_one_line_message(tmp_path: Path, row: dict[str, Any], message: str) -> None:
    path = tmp_path / "instances.jsonl"
    path.write_text(json.dumps(row) + "\n")
    with pytest.raises(TaskSpecError, match=message) as info:
        load_instances(path, tmp_path)
    assert "\n" not in str(info.value)
