"""`coder tasks import`: tasks from the bug-fix commits of a small git history made here, checked with --check, and
the user's repository left as it was (branches, HEAD, index, working tree)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from coder.cli import main
from repo_helpers import git

CALC = "def add(a, b):\n    return a - b\n\n\ndef mul(a, b):\n    return a * b\n"
TESTS = "from calc import add, mul\n\n\ndef test_mul():\n    assert mul(2, 3) == 6\n"


def commit(repo: Path, files: dict[str, str], message: str) -> str:
    for rel, text in files.items():
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text(text)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", message)
    return git(repo, "rev-parse", "HEAD").strip()


@pytest.fixture
def history(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    repo = tmp_path / "calcproject"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "user.name", "t")
    git(repo, "config", "user.email", "t@example.com")
    shas = {"init": commit(repo, {"calc.py": CALC, "tests/test_calc.py": TESTS}, "first version")}
    shas["fix"] = commit(repo, {"calc.py": CALC.replace("a - b", "a + b"),
                                "tests/test_calc.py": TESTS + "\n\ndef test_add():\n    assert add(2, 3) == 5\n"},
                         "add() subtracted\n\nadd(2, 3) gave -1.")
    shas["docs"] = commit(repo, {"README.md": "calc\n"}, "a readme")
    shas["refactor"] = commit(repo, {"calc.py": CALC.replace("a - b", "a + b") + "\n\ndef neg(a):\n    return -a\n",
                                     "tests/test_neg.py": "from calc import neg\n\n\ndef test_neg():\n"
                                                          "    assert neg(1) == -1\n"}, "add neg()")
    (repo / "scratch.txt").write_text("uncommitted work\n")
    return repo, shas


def state(repo: Path) -> tuple[str, ...]:
    return (git(repo, "rev-parse", "HEAD"), git(repo, "branch", "--list"), git(repo, "status", "--porcelain"),
            (repo / "scratch.txt").read_text())


def test_a_bug_fix_commit_becomes_a_task_that_passes_the_check(history: tuple[Path, dict[str, str]], tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    repo, shas = history
    before = state(repo)
    out = tmp_path / "my-tasks"
    assert main(["tasks", "import", str(repo), "--last", "3", "--out", str(out), "--sandbox", "local"]) == 0
    printed = capsys.readouterr().out
    assert f"made calcproject-{shas['fix'][:10]}: add() subtracted" in printed
    assert f"skip {shas['docs'][:10]} a readme: does not change both tests and source code" in printed
    assert f"skip {shas['refactor'][:10]} add neg(): no test fails before the fix and passes after it" in printed
    assert state(repo) == before  # no branch, HEAD, index or working-tree change

    task_dir = out / f"calcproject-{shas['fix'][:10]}"
    spec = yaml.safe_load((task_dir / "task.yaml").read_text())
    assert spec["fail_to_pass"] == ["tests/test_calc.py::test_add"]
    assert spec["pass_to_pass"] == ["tests/test_calc.py::test_mul"]
    assert spec["issue"] == "add() subtracted\n\nadd(2, 3) gave -1." and spec["language"] == "python"
    assert spec["source"].endswith(shas["fix"]) and spec["repo"] == str(repo.resolve())
    assert git(repo, "rev-parse", f"refs/coder-tasks/{shas['fix']}").strip() == spec["commit"]
    fix = (task_dir / "fix.patch").read_text()
    assert "+++ b/calc.py" in fix and "tests/" not in fix

    assert main(["eval", str(out), "--check", "--sandbox", "local"]) == 0
    assert "1 of 1 task(s) pass the check" in capsys.readouterr().out


def test_a_directory_that_is_not_a_git_repository_is_a_usage_error(tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tasks", "import", str(tmp_path), "--sandbox", "local", "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"coder: error: {tmp_path} is not a git repository"
    assert subprocess.run(["git", "-C", str(tmp_path), "status"], capture_output=True).returncode != 0


def exercise(root: Path, name: str, files: dict[str, str]) -> None:
    for rel, text in files.items():
        (root / name / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / name / rel).write_text(text)


def test_exercises_with_solutions_become_tasks_that_pass_the_check(tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    """A stub missing a name the tests import (the tests cannot even run) and a buggy program both make tasks; an
    exercise without a solution, or whose solution fixes nothing, is skipped with the reason."""
    root = tmp_path / "exercises"
    exercise(root, "leap", {"README.md": "Tell leap years.\n", "leap.py": "def leap(year):\n    pass\n",
                            "test_leap.py": "from leap import leap, days\n\n\ndef test_leap():\n"
                                            "    assert leap(2000)\n\n\ndef test_days():\n    assert days(2001) == 365\n",
                            "solution/leap.py": "def leap(year):\n    return year % 4 == 0 and (year % 100 != 0 or "
                                                "year % 400 == 0)\n\n\ndef days(year):\n    return 366 if leap(year) "
                                                "else 365\n"})
    exercise(root, "bitcount", {"bitcount.py": "def bitcount(n):\n    return bin(n).count('0')\n",
                                "test_bitcount.py": "from bitcount import bitcount\n\n\ndef test_seven():\n"
                                                    "    assert bitcount(7) == 3\n\n\ndef test_zero_bits():\n"
                                                    "    assert bitcount(1) >= 0\n",
                                "solution/bitcount.py": "def bitcount(n):\n    return bin(n).count('1')\n"})
    exercise(root, "nosolution", {"a.py": "x = 1\n", "test_a.py": "def test_a():\n    pass\n"})
    out = tmp_path / "tasks"
    assert main(["tasks", "import-exercises", str(root), "--out", str(out), "--sandbox", "local"]) == 0
    printed = capsys.readouterr().out
    assert "made leap: leap" in printed and "made bitcount: bitcount" in printed
    assert "skip nosolution nosolution: no solution/ directory with the reference solution" in printed
    leap = yaml.safe_load((out / "leap" / "task.yaml").read_text())
    assert leap["fail_to_pass"] == ["test_leap.py::test_days", "test_leap.py::test_leap"]
    assert leap["issue"] == "Tell leap years." and not (out / "leap" / "repo" / "solution").exists()
    bitcount = yaml.safe_load((out / "bitcount" / "task.yaml").read_text())
    assert (bitcount["fail_to_pass"], bitcount["pass_to_pass"]) == (["test_bitcount.py::test_seven"],
                                                                   ["test_bitcount.py::test_zero_bits"])
    assert bitcount["issue"] == "bitcount: make its tests pass."
    assert main(["eval", str(out), "--check", "--sandbox", "local"]) == 0
    assert "2 of 2 task(s) pass the check" in capsys.readouterr().out
