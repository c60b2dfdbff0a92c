"""The agent job's artifact: summary.json (validated both ways), patch.diff and trajectory.jsonl in one directory."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..errors import CoderError

__all__ = ["ArtifactError", "RunSummary", "Usage", "SUMMARY", "PATCH", "TRAJECTORY", "read_artifact",
           "write_summary"]

SUMMARY, PATCH, TRAJECTORY = "summary.json", "patch.diff", "trajectory.jsonl"
MAX_SUMMARY_BYTES = 1_000_000

Status = Literal["resolved", "not_resolved", "limit_reached", "stuck", "error", "interrupted", "skipped"]


class ArtifactError(CoderError):
    """The agent job's artifact is missing or malformed (a one-line message)."""


class Usage(BaseModel):
    model_config = ConfigDict(extra="forbid")
    prompt_tokens: int = Field(0, ge=0)
    completion_tokens: int = Field(0, ge=0)
    cached_tokens: int = Field(0, ge=0)


class RunSummary(BaseModel):
    """What the agent job found out; the publish job trusts none of it beyond its types and sizes."""

    model_config = ConfigDict(extra="forbid")
    version: Literal[1] = 1
    issue: int | None = None
    decision: Literal["run", "refuse", "ignore", "invalid"] = "run"
    status: Status
    message: str = Field("", max_length=20_000)
    summary: str = Field("", max_length=20_000)
    plan: list[str] = Field(default_factory=list, max_length=100)
    fail_to_pass: list[str] = Field(default_factory=list, max_length=10_000)
    still_failing: list[str] = Field(default_factory=list, max_length=10_000)
    pass_to_fail: list[str] = Field(default_factory=list, max_length=10_000)
    steps: int = Field(0, ge=0)
    elapsed: float = Field(0.0, ge=0)
    usage: Usage = Field(default_factory=Usage)
    model: str = ""
    sandbox: str = ""
    base_sha: str = ""
    has_patch: bool = False
    candidates: int = Field(0, ge=0)  # candidate repairs the guided strategy tried (0 for the tool loop)
    test_files: list[str] = Field(default_factory=list, max_length=1000)  # test files and data the patch changes


def write_summary(out: Path, summary: RunSummary) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    path = out / SUMMARY
    path.write_text(summary.model_dump_json(indent=2) + "\n", encoding="utf-8")
    return path


def read_artifact(directory: Path, max_patch_bytes: int) -> tuple[RunSummary, str]:
    """(summary, patch text) from the downloaded artifact; ArtifactError when missing, oversized or malformed."""
    path = directory / SUMMARY
    if not path.is_file():
        raise ArtifactError(f"the agent job left no {SUMMARY}")
    if path.stat().st_size > MAX_SUMMARY_BYTES:
        raise ArtifactError(f"{SUMMARY} is larger than {MAX_SUMMARY_BYTES} bytes")
    try:
        summary = RunSummary.model_validate(json.loads(path.read_text(encoding="utf-8")))
    except (ValueError, UnicodeDecodeError, ValidationError) as exc:
        raise ArtifactError(f"{SUMMARY} is malformed: {str(exc).splitlines()[0]}") from exc
    patch = ""
    patch_path = directory / PATCH
    if patch_path.is_file():
        size = patch_path.stat().st_size
        if size > max_patch_bytes:
            raise ArtifactError(f"the patch is {size} bytes, over the limit of {max_patch_bytes} (max-patch-bytes)")
        patch = patch_path.read_bytes().decode("utf-8", errors="surrogateescape")
    return summary, patch
