"""The grader on a real task: the patch goes onto a fresh checkout, edited tests are restored, tests run in a fresh
sandbox, and resolved needs every fail->pass and pass->pass test to pass."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from coder.eval.grade import grade as grade_patch
from coder.eval.grade import prepare, protected_files, selectors
from coder.eval.tasks import EvalTask
from coder.sandboxes.local import LocalSandbox
from conftest import BUGGY_LINE, PAGER_FILE, PAGINATOR, RecordingDisplay, scripted_factory, task

FIX_LINE = "        return -(-self.count // self.per_page)\n"


def diff_after(checkout: Path, edits: dict[str, tuple[str, str] | None]) -> str:
    """The patch that EDITS make ({path: (old, new)} or None to delete); the checkout is restored afterwards."""
    for path, change in edits.items():
        if change is None:
            (checkout / path).unlink()
        else:
            text = (checkout / path).read_text()
            assert change[0] in text
            (checkout / path).write_text(text.replace(change[0], change[1]))
    patch = subprocess.run(["git", "diff"], cwd=checkout, capture_output=True, text=True, check=True).stdout
    subprocess.run(["git", "checkout", "--", "."], cwd=checkout, check=True)
    return patch


@pytest.fixture(scope="module")
def pager(tmp_path_factory: pytest.TempPathFactory) -> tuple[EvalTask, Path]:
    t = task(PAGINATOR)
    return t, t.checkout(tmp_path_factory.mktemp("grade") / "repo")


def test_reference_fix_resolves_and_no_fix_does_not(pager: tuple[EvalTask, Path]) -> None:
    t, checkout = pager
    fixed = grade_patch(t, checkout, diff_after(checkout, {PAGER_FILE: (BUGGY_LINE, FIX_LINE)}), LocalSandbox(), 60)
    assert fixed.resolved and fixed.patch_applied and fixed.error is None
    assert set(fixed.fail_to_pass) == set(t.fail_to_pass) and set(fixed.fail_to_pass.values()) == {"passed"}
    assert set(fixed.pass_to_pass.values()) == {"passed"}

    untouched = grade_patch(t, checkout, "", LocalSandbox(), 60)
    assert not untouched.resolved and untouched.patch_applied
    assert "failed" in untouched.fail_to_pass.values() and set(untouched.pass_to_pass.values()) == {"passed"}


def test_garbage_patch_is_not_resolved(pager: tuple[EvalTask, Path]) -> None:
    t, checkout = pager
    result = grade_patch(t, checkout, "diff --git a/nope.py b/nope.py\n--- a/nope.py\n+++ b/nope.py\n@@ -1 +1 @@\n-x\n+y\n",
                         LocalSandbox(), 60)
    assert not result.resolved and not result.patch_applied and "does not apply" in (result.error or "")


def test_tests_the_agent_edited_are_restored_before_grading(pager: tuple[EvalTask, Path]) -> None:
    t, checkout = pager
    tests = "tests/test_paginator.py"
    source = (checkout / tests).read_text()
    cheat = diff_after(checkout, {tests: (source, source.replace("assert", "assert True or"))})
    result = grade_patch(t, checkout, cheat, LocalSandbox(), 60)
    assert not result.resolved and "failed" in result.fail_to_pass.values()

    fix_and_delete_a_test = diff_after(checkout, {PAGER_FILE: (BUGGY_LINE, FIX_LINE), "tests/test_links.py": None})
    result = grade_patch(t, checkout, fix_and_delete_a_test, LocalSandbox(), 60)
    assert result.resolved and "tests/test_links.py::test_links_for_many_pages" in result.pass_to_pass


def test_prepare_leaves_the_checkout_alone(pager: tuple[EvalTask, Path], tmp_path: Path) -> None:
    t, checkout = pager
    before = (checkout / PAGER_FILE).read_text()
    assert prepare(t, checkout, diff_after(checkout, {PAGER_FILE: (BUGGY_LINE, FIX_LINE)}), tmp_path / "g") == (None, [])
    assert FIX_LINE in (tmp_path / "g" / PAGER_FILE).read_text() and (checkout / PAGER_FILE).read_text() == before
    assert protected_files(t, checkout) == ["tests/test_links.py", "tests/test_paginator.py"]


def test_selectors_run_only_the_tests_files_or_packages_named(tmp_path: Path) -> None:
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_a.py").write_text("")
    py = EvalTask("a", "python", "x", ("tests/test_a.py::test_x",), ("tests/test_a.py::test_y[1]",))
    assert selectors(py, tmp_path) == ["tests/test_a.py"]
    go = EvalTask("g", "go", "x", ("example.com/m/pkg::TestA/sub",), ("example.com/m::TestB",))
    assert selectors(go, tmp_path) == ["example.com/m/pkg", "example.com/m"]
    unittest_ids = EvalTask("u", "python", "x", ("pkg.tests.TestA.test_x",))
    assert selectors(unittest_ids, tmp_path) == []  # no file part: the whole suite runs
    missing = EvalTask("m", "python", "x", ("tests/test_new.py::test_x",))
    assert selectors(missing, tmp_path) == []


LEAK = "diff --git a/etc/passwd b/leak.txt\nsimilarity index 100%\ncopy from /etc/passwd\ncopy to leak.txt\n"


def test_a_patch_copying_a_host_file_is_refused_not_applied(pager: tuple[EvalTask, Path], tmp_path: Path) -> None:
    """`git apply` would read /etc/passwd on the grading host into leak.txt: the shared check refuses it first."""
    t, checkout = pager
    problem, _ = prepare(t, checkout, LEAK, tmp_path / "g")
    assert problem is not None and problem.startswith("the patch was refused:") and "/etc/passwd" in problem
    assert not (tmp_path / "g" / "leak.txt").exists() and not (checkout / "leak.txt").exists()

    result = grade_patch(t, checkout, LEAK, LocalSandbox(), 60)
    assert not result.resolved and not result.patch_applied
    assert (result.error or "").startswith("the patch was refused:") and not result.fail_to_pass


def test_a_task_test_patch_with_unsafe_paths_is_a_grading_error(pager: tuple[EvalTask, Path], tmp_path: Path) -> None:
    """The task's own test_patch passes the same check (its paths are also unlinked before it is applied)."""
    from dataclasses import replace

    from coder.eval.grade import GradingError

    t, checkout = pager
    with pytest.raises(GradingError, match="test_patch was refused"):
        prepare(replace(t, test_patch=LEAK), checkout, "", tmp_path / "g")
    assert not (tmp_path / "g" / "leak.txt").exists()


CALC_TEST = ("from pathlib import Path\n\nfrom calc import add\n\nDATA = Path(__file__).resolve().parents[1]\n\n\n"
             "def test_add():\n    assert add(2, 3) == int((DATA / '{data}').read_text())\n\n\n"
             "def test_zero():\n    assert add(0, 0) == 0\n")


def data_task(make_repo: object, data: str, protected: list[str] | None) -> tuple[EvalTask, Path]:
    """A task whose failing test compares with a data file that no test id names, and the task's checkout."""
    import yaml

    from coder.eval.tasks import from_task_dir

    repo = make_repo({"calc.py": "def add(a, b):\n    return a - b\n",  # type: ignore[operator]
                      "tests/test_calc.py": CALC_TEST.format(data=data), data: "5\n"})
    task_dir = repo.parent / "task"
    task_dir.mkdir()
    spec = {"id": "data", "language": "python", "issue": "add() subtracts",
            "fail_to_pass": ["tests/test_calc.py::test_add"], "pass_to_pass": ["tests/test_calc.py::test_zero"],
            "repo": str(repo), **({"protected": protected} if protected is not None else {})}
    (task_dir / "task.yaml").write_text(yaml.safe_dump(spec))
    t = from_task_dir(task_dir)
    return t, t.checkout(repo.parent / "checkout")


@pytest.mark.parametrize("data, protected", [("tests/data/expected.txt", None), ("golden/expected.txt", ["golden/*"])])
def test_test_data_a_run_changes_is_restored_and_reported(make_repo: object, data: str, protected: list[str] | None
                                                          ) -> None:
    """Changing the expected value next to the tests (by default every test file and test data dir is protected), or a
    file task.yaml's `protected` globs name, does not make a run pass; the grade says what was put back."""
    t, checkout = data_task(make_repo, data, protected)
    cheat = diff_after(checkout, {data: ("5", "-1")})
    result = grade_patch(t, checkout, cheat, LocalSandbox(), 60)
    assert not result.resolved and result.restored == [data], result
    fixed = grade_patch(t, checkout, diff_after(checkout, {"calc.py": ("a - b", "a + b")}), LocalSandbox(), 60)
    assert fixed.resolved and fixed.restored == []


def test_a_new_conftest_beside_the_tests_is_removed_before_grading(make_repo: object) -> None:
    t, checkout = data_task(make_repo, "tests/data/expected.txt", None)
    (checkout / "tests" / "conftest.py").write_text("import calc\ncalc.add = lambda a, b: a + b\n")
    subprocess.run(["git", "add", "-N", "tests/conftest.py"], cwd=checkout, check=True)
    cheat = diff_after(checkout, {})
    (checkout / "tests" / "conftest.py").unlink()
    assert "tests/conftest.py" in cheat
    result = grade_patch(t, checkout, cheat, LocalSandbox(), 60)
    assert not result.resolved and result.restored == ["tests/conftest.py"]


def test_a_scripted_run_that_edits_the_test_data_is_graded_on_the_original_data(make_repo: object,
                                                                                make_plan: object) -> None:
    """The whole eval: a scripted coder run changes the expected value beside the tests (the tool loop's test-file
    guard refuses edit_file there, so it writes it with bash) and submits; the run's own tests pass, the grade does
    not, and the record says what was put back."""
    from coder.eval.runner import Evaluation
    from coder.testing import call, reply

    t, _ = data_task(make_repo, "tests/data/expected.txt", None)
    steps = [reply("1. Make the test pass", call("bash", "c1", command="echo -1 > tests/data/expected.txt")),
             reply("", call("submit", "c2", summary="done")), reply("", call("submit", "c3", summary="done"))]
    plan = make_plan([t], model_factory=scripted_factory({t.id: lambda _t, _r: steps}),  # type: ignore[operator]
                     strategies=["tools"])
    (record,) = Evaluation(plan, RecordingDisplay()).run().records
    assert "tests/data/expected.txt" in record.patch and not record.resolved, record
    assert record.grade.restored == ["tests/data/expected.txt"]
