"""SWE-bench-style instances (JSONL) as eval tasks, given local clones or mirrors; predictions in SWE-bench's format."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from .results import RunRecord
from .tasks import EvalTask
from .taskspec import Language, TaskSpecError, describe_validation_error


class SweBenchInstance(BaseModel):
    """One line of a SWE-bench dataset; other fields (version, hints_text, created_at, ...) are ignored."""

    model_config = ConfigDict(extra="ignore")
    instance_id: str = Field(min_length=1)
    repo: str = Field(min_length=1, description="owner/name on GitHub")
    base_commit: str = Field(min_length=4)
    problem_statement: str = Field(min_length=1)
    test_patch: str = ""
    patch: str = ""  # the gold fix: never shown to the agent; used only by the `gold` harness
    FAIL_TO_PASS: list[str] = Field(min_length=1)
    PASS_TO_PASS: list[str] = Field(default_factory=list)
    # Extensions (not in the official dataset): how to run the tests with coder's runner, and a setup command.
    language: Language = "python"
    test_command: str | None = None
    setup: str | None = None

    @field_validator("FAIL_TO_PASS", "PASS_TO_PASS", mode="before")
    @classmethod
    def _json_list(cls, value: Any) -> Any:
        """The official dataset stores these lists as JSON-encoded strings; accept both shapes."""
        if isinstance(value, str):
            try:
                return json.loads(value) if value.strip() else []
            except json.JSONDecodeError as exc:
                raise ValueError(f"not a JSON list of test ids: {exc.msg}") from exc
        return value


def _repo_map(swe_repos: Path) -> dict[str, Path]:
    """A mapping file ({owner/name: path}, YAML or JSON) read relative to its own directory."""
    try:
        data = yaml.safe_load(swe_repos.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise TaskSpecError(f"{swe_repos}: cannot read the repository mapping: {' '.join(str(exc).split())}") from exc
    if not isinstance(data, dict):
        raise TaskSpecError(f"{swe_repos}: expected a mapping of owner/name to a clone's path")
    return {str(k): (swe_repos.parent / str(v)).resolve() for k, v in data.items()}


def find_clone(repo: str, swe_repos: Path | None) -> Path:
    """The local clone or mirror of owner/name: DIR/owner__name (SWE-bench's naming), DIR/owner/name, DIR/name
    (each optionally with .git), or the path a mapping file gives."""
    if swe_repos is None:
        raise TaskSpecError(f"SWE-bench instances of {repo} need a local clone: pass --swe-repos DIR "
                            f"(holding DIR/{repo.replace('/', '__')}) or a mapping file")
    if swe_repos.is_file():
        mapping = _repo_map(swe_repos)
        if repo not in mapping:
            raise TaskSpecError(f"{swe_repos}: no entry for {repo}")
        return mapping[repo]
    owner, _, name = repo.partition("/")
    for rel in (f"{owner}__{name}", f"{owner}/{name}", name):
        for candidate in (swe_repos / rel, swe_repos / f"{rel}.git"):
            if candidate.is_dir():
                return candidate
    raise TaskSpecError(f"no local clone of {repo} under {swe_repos} (expected {swe_repos / (owner + '__' + name)})")


def to_task(instance: SweBenchInstance, source: str, swe_repos: Path | None) -> EvalTask:
    return EvalTask(
        id=instance.instance_id, language=instance.language, issue=instance.problem_statement,
        fail_to_pass=tuple(instance.FAIL_TO_PASS), pass_to_pass=tuple(instance.PASS_TO_PASS),
        test_command=instance.test_command, setup=instance.setup, test_patch=instance.test_patch,
        reference_patch=instance.patch, source=source,
        repo_source=str(find_clone(instance.repo, swe_repos)), commit=instance.base_commit)


def load_instances(path: Path, swe_repos: Path | None) -> list[EvalTask]:
    """Every instance of a JSONL file (a JSON array works too); each problem is one line naming FILE:LINE."""
    text = path.read_text(encoding="utf-8")
    rows: list[tuple[int, Any]] = []
    if text.lstrip().startswith("["):
        try:
            rows = list(enumerate(json.loads(text), 1))
        except json.JSONDecodeError as exc:
            raise TaskSpecError(f"{path}: invalid JSON: {exc.msg} (line {exc.lineno})") from exc
    else:
        for number, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                rows.append((number, json.loads(line)))
            except json.JSONDecodeError as exc:
                raise TaskSpecError(f"{path}:{number}: invalid JSON: {exc.msg}") from exc
    tasks = []
    for number, row in rows:
        source = f"{path}:{number}"
        if not isinstance(row, dict):
            raise TaskSpecError(f"{source}: expected a JSON object per instance")
        try:
            instance = SweBenchInstance.model_validate(row)
        except ValidationError as exc:
            raise TaskSpecError(describe_validation_error(exc, source)) from exc
        tasks.append(to_task(instance, source, swe_repos))
    if not tasks:
        raise TaskSpecError(f"{path}: no instances")
    return tasks


def write_predictions(path: Path, records: Iterable[RunRecord]) -> int:
    """SWE-bench predictions (instance_id, model_name_or_path, model_patch), one line per record; returns the count."""
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with open(path, "w", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps({"instance_id": record.task, "model_name_or_path": record.config,
                                     "model_patch": record.patch}) + "\n")
            count += 1
    return count
