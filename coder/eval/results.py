"""Eval results: one RunRecord per (configuration, task, run), appended to results.jsonl as each run finishes."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

Key = tuple[str, str, int]
RESULTS_FILE = "results.jsonl"


class _Lossless(BaseModel):
    """A model whose JSON keeps every string exactly: non-ASCII as \\u escapes, lone surrogates included."""

    def model_dump_json(self, *, indent: int | None = None, **kwargs: Any) -> str:
        """Like pydantic's, but a patch's undecodable bytes (surrogateescape code points, which have no UTF-8 form and
        make pydantic's serialiser raise) are written as \\udcXX escapes, which json.loads turns back into them."""
        kwargs.pop("ensure_ascii", None)  # always escaped: that is what makes it lossless
        separators = (",", ":") if indent is None else None
        return json.dumps(self.model_dump(mode="json", **kwargs), indent=indent, separators=separators,
                          ensure_ascii=True)


class GradeResult(_Lossless):
    """What the grader saw in a fresh sandbox after applying the patch."""

    model_config = ConfigDict(extra="ignore")
    resolved: bool = False
    patch_applied: bool = False
    fail_to_pass: dict[str, str] = Field(default_factory=dict)
    pass_to_pass: dict[str, str] = Field(default_factory=dict)
    seconds: float = 0.0
    error: str | None = None
    restored: list[str] = Field(default_factory=list)  # protected files the patch changed, put back before the tests


class RunRecord(_Lossless):
    """One task run by one configuration (harness + model), graded."""

    model_config = ConfigDict(extra="ignore")
    config: str
    harness: str
    model: str
    strategy: str = ""  # coder's strategy when --strategy chose it ("" : the configuration's)
    task: str
    run: int = 0
    resolved: bool = False
    status: str = "error"  # the harness's own verdict: resolved, not_resolved, limit_reached, stuck, error, ...
    message: str = ""
    steps: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0
    wall_seconds: float = 0.0
    malformed_calls: int = 0
    candidates: int = 0  # candidate repairs tried (the guided strategy)
    patch: str = ""
    error: str | None = None  # an infrastructure failure (sandbox, model endpoint, harness); rerun on resume
    sandbox: str = ""
    grade: GradeResult = Field(default_factory=GradeResult)
    trajectory: str | None = None
    finished_at: str = ""
    kind: Literal["run"] = "run"

    @property
    def key(self) -> Key:
        return (self.config, self.task, self.run)

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


class ResultStore:
    """results.jsonl: append-only and thread-safe; for a key seen twice (--redo) the last line wins."""

    def __init__(self, out_dir: Path) -> None:
        self.path = out_dir / RESULTS_FILE
        self._lock = threading.Lock()

    def append(self, record: RunRecord) -> None:
        line = record.model_dump_json() + "\n"
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.path, "a+b") as handle:
                handle.seek(0, 2)
                if handle.tell():  # a line cut off by a crash must not swallow this one
                    handle.seek(-1, 2)
                    if handle.read(1) != b"\n":
                        handle.write(b"\n")
                handle.write(line.encode("utf-8"))
                handle.flush()

    def load(self) -> dict[Key, RunRecord]:
        """Every record by key (last one wins); unreadable lines (a run cut off mid-write) are skipped."""
        records: dict[Key, RunRecord] = {}
        if not self.path.is_file():
            return records
        with open(self.path, encoding="utf-8") as handle:
            for line in handle:
                if not line.strip():
                    continue
                try:
                    record = RunRecord.model_validate(json.loads(line))
                except (json.JSONDecodeError, ValidationError):
                    continue
                records[record.key] = record
        return records

    def finished(self) -> set[Key]:
        """Keys of runs that completed without an infrastructure error (skipped on resume)."""
        return {key for key, record in self.load().items() if record.error is None}


def select(records: Iterable[RunRecord], configs: Iterable[str] | None = None,
           tasks: Iterable[str] | None = None) -> list[RunRecord]:
    """Records of the given configurations and tasks (all when None), sorted by config, task, run."""
    wanted_configs = set(configs) if configs is not None else None
    wanted_tasks = set(tasks) if tasks is not None else None
    chosen = [r for r in records if (wanted_configs is None or r.config in wanted_configs)
              and (wanted_tasks is None or r.task in wanted_tasks)]
    return sorted(chosen, key=lambda r: r.key)
