"""task.yaml: the schema (repo as repo/, a local path or a git URL + commit; setup), one-line validation messages,
and checkouts that never expose later commits."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from coder.eval.taskspec import TaskSpecError, checkout, is_git_url, load_task
from repo_helpers import git

BASE = {"id": "t1", "language": "python", "issue": "add() subtracts\n\nIt should add.",
        "fail_to_pass": ["tests/test_calc.py::test_add"]}


def write_task(task_dir: Path, text: str) -> Path:
    task_dir.mkdir(parents=True, exist_ok=True)
    (task_dir / "task.yaml").write_text(text)
    return task_dir


def yaml_of(fields: dict[str, object]) -> str:
    import yaml

    return yaml.safe_dump(fields, sort_keys=False)


def history_repo(path: Path) -> tuple[Path, str]:
    """A repo whose first commit is buggy and whose second commit fixes it; returns (path, first sha)."""
    path.mkdir(parents=True)
    (path / "calc.py").write_text("def add(a, b):\n    return a - b\n")
    git(path, "init", "-q")
    git(path, "add", "-A")
    git(path, "commit", "-qm", "buggy")
    sha = git(path, "rev-parse", "HEAD").strip()
    (path / "calc.py").write_text("def add(a, b):\n    return a + b\n")
    git(path, "commit", "-qam", "fix")
    return path, sha


def test_repo_dir_default_and_plain_local_path(tmp_path: Path) -> None:
    task_dir = write_task(tmp_path / "t1", yaml_of(BASE))
    (task_dir / "repo").mkdir()
    (task_dir / "repo" / "calc.py").write_text("x = 1\n")
    assert (checkout(task_dir, tmp_path / "a") / "calc.py").read_text() == "x = 1\n"

    src = tmp_path / "elsewhere"
    src.mkdir()
    (src / "mod.py").write_text("y = 2\n")
    other = write_task(tmp_path / "t2", yaml_of({**BASE, "id": "t2", "repo": "../elsewhere", "setup": "true"}))
    assert load_task(other).setup == "true"
    out = checkout(other, tmp_path / "b")
    assert (out / "mod.py").read_text() == "y = 2\n" and git(out, "status", "--porcelain") == ""


def test_local_git_repo_at_a_commit_hides_later_commits(tmp_path: Path) -> None:
    repo, sha = history_repo(tmp_path / "upstream")
    task_dir = write_task(tmp_path / "t", yaml_of({**BASE, "repo": str(repo), "commit": sha[:10]}))
    out = checkout(task_dir, tmp_path / "co")
    assert "a - b" in (out / "calc.py").read_text()
    assert len(git(out, "log", "--all", "--oneline").splitlines()) == 1


def test_git_url_is_mirrored_once_and_checked_out_at_the_commit(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    repo, sha = history_repo(tmp_path / "upstream")
    url = f"file://{repo}"
    assert is_git_url(url) and is_git_url("git@github.com:acme/x.git") and not is_git_url("../repo")
    task_dir = write_task(tmp_path / "t", yaml_of({**BASE, "repo": url, "commit": sha}))
    assert "a - b" in (checkout(task_dir, tmp_path / "co1") / "calc.py").read_text()
    mirrors = list((tmp_path / "cache" / "coder" / "eval-repos").iterdir())
    assert len(mirrors) == 1
    subprocess.run(["rm", "-rf", str(repo)], check=True)  # the second checkout needs no network
    assert "a - b" in (checkout(task_dir, tmp_path / "co2") / "calc.py").read_text()


@pytest.mark.parametrize("fields, message", [
    ({**BASE, "isue": "x"}, "unknown key 'isue'"),
    ({k: v for k, v in BASE.items() if k != "issue"}, "missing required key 'issue'"),
    ({**BASE, "language": "cobol"}, "language: Input should be"),
    ({**BASE, "fail_to_pass": []}, "fail_to_pass: List should have at least 1 item"),
    ({**BASE, "pass_to_pass": BASE["fail_to_pass"]}, "test ids in both fail_to_pass and pass_to_pass"),
    ({**BASE, "repo": "https://example.com/x.git"}, "a git URL in 'repo' needs 'commit'"),
    ({**BASE, "id": "../escape"}, "id: String should match pattern"),
    ({**BASE, "tags": ["Off By One"]}, "tags.0: String should match pattern"),
])
def test_invalid_task_yaml_gets_a_one_line_message_naming_the_file(tmp_path: Path, fields: dict[str, object],
                                                                   message: str) -> None:
    task_dir = write_task(tmp_path / "bad", yaml_of(fields))
    (task_dir / "repo").mkdir()
    with pytest.raises(TaskSpecError) as info:
        load_task(task_dir)
    text = str(info.value)
    assert message in text and text.startswith(str(task_dir / "task.yaml")) and "\n" not in text


def test_broken_yaml_and_missing_repo_are_reported(tmp_path: Path) -> None:
    with pytest.raises(TaskSpecError, match="invalid YAML"):
        load_task(write_task(tmp_path / "a", "id: [unclosed\n"))
    with pytest.raises(TaskSpecError, match="no 'repo' key and no repo/ directory"):
        load_task(write_task(tmp_path / "b", yaml_of(BASE)))
    with pytest.raises(TaskSpecError, match="expected a mapping"):
        load_task(write_task(tmp_path / "c", "- just a list\n"))


def test_free_tags_a_source_and_no_pass_to_pass_are_valid(tmp_path: Path) -> None:
    """What tasks/README.md documents: pass_to_pass may be empty, tags are free (one spelling), source is free text."""
    fields = {**BASE, "tags": ["off-by-one", "quixbugs"], "source": "QuixBugs: bitcount (python)"}
    task_dir = write_task(tmp_path / "ok", yaml_of(fields))
    (task_dir / "repo").mkdir()
    spec = load_task(task_dir)
    assert spec.pass_to_pass == [] and spec.tags == ["off-by-one", "quixbugs"]
    assert spec.source == "QuixBugs: bitcount (python)"


def test_the_readme_documents_every_key_and_language() -> None:
    from typing import get_args

    from coder.eval.taskspec import Language, TaskSpec

    readme = (Path(__file__).resolve().parents[2] / "tasks" / "README.md").read_text(encoding="utf-8")
    table = readme.split("### task.yaml", 1)[1].split("###", 1)[0]
    for key in TaskSpec.model_fields:
        assert f"`{key}`" in table, key
    for language in get_args(Language):
        assert f"`{language}`" in table, language
