"""Task directories (tasks/<id>/task.yaml + repo/ + fix.patch + solution.json): loading, validation, checkout.

A task's repository is its `repo/` directory, or `repo:` in task.yaml: a path (relative to the task directory) or a
git URL, with `commit:` naming the revision. Every checkout is a fresh one-commit git repository holding the files at
that revision, so no later commit (the fix) is reachable from inside it.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, model_validator

from ..errors import CoderError

_GIT_IDENTITY = {"GIT_AUTHOR_NAME": "coder", "GIT_AUTHOR_EMAIL": "coder@localhost",
                 "GIT_COMMITTER_NAME": "coder", "GIT_COMMITTER_EMAIL": "coder@localhost"}
_URL = re.compile(r"^(?:[a-z][a-z0-9+.-]*://|[\w.-]+@[\w.-]+:)", re.IGNORECASE)
Language = Literal["python", "javascript", "typescript", "go", "rust", "java", "c", "cpp"]
# Tags are free, in one spelling (lowercase words joined by '-'), so the same tag is not counted twice; tasks/README.md
# documents the ones the bundled tasks use (one-line, multi-file, find-failing-test, vague-issue, cross-module).
Tag = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$", max_length=40)]


class TaskSpecError(CoderError, ValueError):
    """A task that cannot be loaded or checked out; the message is one line naming the file."""


class TaskSpec(BaseModel):
    """task.yaml: what to fix, where the code is, and which tests decide whether it was fixed."""

    model_config = ConfigDict(extra="forbid")
    id: str = Field(min_length=1, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    language: Language
    issue: str = Field(min_length=1)
    repo: str | None = Field(None, description="Path (relative to the task dir) or git URL; default: the repo/ dir.")
    commit: str | None = Field(None, description="Revision to check out; required with a git URL.")
    setup: str | None = Field(None, description="Command run once in the sandbox image (Docker) or checkout (local).")
    test_command: str | None = None
    test_timeout: float | None = Field(None, gt=0, description="Seconds per test where the runner allows it.")
    fail_to_pass: list[str] = Field(min_length=1)
    pass_to_pass: list[str] = Field(default_factory=list)
    difficulty: Literal["easy", "medium", "hard"] | None = None
    tags: list[Tag] = Field(default_factory=list)
    protected: list[str] | None = Field(None, description=(
        "Globs (fnmatch: * also matches /) of the files the grader restores before the tests run, besides the files "
        "the test ids name; default: every test file and test data directory by the usual layouts."))
    source: str | None = Field(None, max_length=500, description="Where the task comes from (a benchmark and its "
                                                                 "item, a repository and commit); free text.")

    @model_validator(mode="after")
    def _consistent(self) -> TaskSpec:
        if self.repo is not None and is_git_url(self.repo) and not self.commit:
            raise ValueError("a git URL in 'repo' needs 'commit' (the revision to check out)")
        if not self.issue.strip():
            raise ValueError("'issue' is empty")
        both = set(self.fail_to_pass) & set(self.pass_to_pass)
        if both:
            raise ValueError(f"test ids in both fail_to_pass and pass_to_pass: {sorted(both)[:3]}")
        return self


class ScriptedSolution(BaseModel):
    """solution.json: a plan and the tool calls a good agent would make."""

    model_config = ConfigDict(extra="forbid")
    plan: list[str]
    calls: list[dict[str, Any]]


def is_git_url(repo: str) -> bool:
    return bool(_URL.match(repo))


def describe_validation_error(exc: ValidationError, source: str) -> str:
    """One line naming the file and each problem (unknown keys first: a typo also shows up as a missing key)."""
    problems = []
    for err in sorted(exc.errors(), key=lambda e: e["type"] != "extra_forbidden"):
        loc = ".".join(str(p) for p in err["loc"]) or "task"
        if err["type"] == "extra_forbidden":
            problems.append(f"unknown key '{loc}'")
        elif err["type"] == "missing":
            problems.append(f"missing required key '{loc}'")
        else:
            msg = str(err["msg"]).removeprefix("Value error, ")
            problems.append(f"{loc}: {msg}" if err["loc"] else msg)
    shown = "; ".join(problems[:3]) + (f"; and {len(problems) - 3} more" if len(problems) > 3 else "")
    return f"{source}: {' '.join(shown.split())}"


def parse_task(data: Any, source: str) -> TaskSpec:
    """Validate a task.yaml mapping; TaskSpecError with a one-line message on any problem."""
    if not isinstance(data, dict):
        raise TaskSpecError(f"{source}: expected a mapping of keys (id, language, issue, ...), got {type(data).__name__}")
    try:
        return TaskSpec.model_validate(data)
    except ValidationError as exc:
        raise TaskSpecError(describe_validation_error(exc, source)) from exc


def load_task(task_dir: Path) -> TaskSpec:
    path = task_dir / "task.yaml"
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise TaskSpecError(f"{path}: cannot read: {exc}") from exc
    except yaml.YAMLError as exc:
        raise TaskSpecError(f"{path}: invalid YAML: {' '.join(str(exc).split())}") from exc
    spec = parse_task(data, str(path))
    if spec.repo is None and not (task_dir / "repo").is_dir():
        raise TaskSpecError(f"{path}: no 'repo' key and no repo/ directory beside it")
    return spec


def load_solution(task_dir: Path) -> ScriptedSolution:
    return ScriptedSolution.model_validate(json.loads((task_dir / "solution.json").read_text(encoding="utf-8")))


def task_dirs(root: Path) -> list[Path]:
    """Every task directory under ROOT, sorted by name (ROOT itself when it is one)."""
    if (root / "task.yaml").is_file():
        return [root]
    return sorted(p for p in root.iterdir() if (p / "task.yaml").is_file())


def _git(cwd: Path, *args: str, env: dict[str, str] | None = None) -> str:
    proc = subprocess.run(["git", *args], cwd=cwd, env={**os.environ, **_GIT_IDENTITY, **(env or {})},
                          capture_output=True, text=True)
    if proc.returncode != 0:
        raise TaskSpecError(f"git {' '.join(args[:3])} failed in {cwd}: {proc.stderr.strip()[-300:]}")
    return proc.stdout


def commit_all(dest: Path, message: str = "buggy", force: bool = False) -> None:
    """Make DEST a git repository whose single (or next) commit holds its files."""
    if not (dest / ".git").exists():
        _git(dest, "init", "-q")
    _git(dest, "add", "-A", *(["-f"] if force else []))
    _git(dest, "-c", "commit.gpgsign=false", "commit", "-q", "--allow-empty", "--no-verify", "-m", message)


def export_revision(source: Path, commit: str, dest: Path) -> Path:
    """The files of SOURCE (a clone or bare mirror) at COMMIT, as a fresh one-commit repository at DEST."""
    dest.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="coder-index-") as tmp:
        env = {"GIT_INDEX_FILE": str(Path(tmp) / "index")}
        try:
            _git(source, "read-tree", f"{commit}^{{tree}}", env=env)
        except TaskSpecError as exc:
            raise TaskSpecError(f"commit {commit} not found in {source} (fetch it, or check the commit id)") from exc
        _git(source, f"--work-tree={dest}", "checkout-index", "-a", "-f", env=env)
    commit_all(dest, f"starting state ({commit[:12]})")
    return dest


def clone_cache_dir() -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "coder" / "eval-repos"


def mirror(url: str, commit: str) -> Path:
    """A bare mirror of URL in the user cache that contains COMMIT (cloned or fetched on demand)."""
    path = clone_cache_dir() / hashlib.sha256(url.encode()).hexdigest()[:16]
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix="clone-", dir=path.parent))
        _git(path.parent, "clone", "--quiet", "--mirror", url, str(tmp))
        tmp.rename(path)
    has = subprocess.run(["git", "cat-file", "-e", f"{commit}^{{commit}}"], cwd=path, capture_output=True)
    if has.returncode != 0:
        _git(path, "fetch", "--quiet", "origin", "+refs/*:refs/*")
    return path


def source_repo(task_dir: Path, spec: TaskSpec) -> Path:
    """Where the task's code comes from: the repo/ dir, a local path, or the cached mirror of a git URL."""
    if spec.repo is None:
        return task_dir / "repo"
    if is_git_url(spec.repo):
        assert spec.commit is not None
        return mirror(spec.repo, spec.commit)
    path = Path(spec.repo).expanduser()
    path = path if path.is_absolute() else task_dir / path
    if not path.exists():
        raise TaskSpecError(f"{task_dir / 'task.yaml'}: repo path {path} does not exist")
    return path


def checkout(task_dir: Path, dest: Path, spec: TaskSpec | None = None) -> Path:
    """A committed git copy of the task's buggy repo at DEST."""
    spec = spec or load_task(task_dir)
    source = source_repo(task_dir, spec)
    if spec.commit is not None:
        return export_revision(source, spec.commit, dest)
    shutil.copytree(source, dest, ignore=shutil.ignore_patterns(".git"), symlinks=True)
    commit_all(dest)
    return dest
