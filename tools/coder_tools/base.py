"""Shared pieces of every tool: the result type, the tool spec, and the workspace with safe path resolution."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

MAX_FILE_BYTES = 2_000_000  # files larger than this are refused by view/edit (grep skips them)
DEFAULT_OUTPUT_CAP = 20_000  # characters of tool output before head/tail elision


class ToolResult(BaseModel):
    """What a tool hands back: ok, text for the model, and structured data for the host."""

    model_config = ConfigDict(extra="forbid")
    ok: bool
    output: str
    data: dict[str, Any] = {}


class ToolError(Exception):
    """Raised inside a tool for a problem the model can act on; becomes ToolResult(ok=False)."""


class ToolArgs(BaseModel):
    """Base for tool arguments: unknown fields are an error the model sees."""

    model_config = ConfigDict(extra="forbid")


A = TypeVar("A", bound=ToolArgs)


Changes = Literal["never", "on_success", "always"]
Reports = Literal["edit", "plan", "tests"]


@dataclass(frozen=True)
class ToolSpec(Generic[A]):
    """One tool: its name, description, pydantic argument model, the function that runs it, and its traits.

    The host reads the traits and never matches tool names: adding or renaming a tool touches only its module.
    read_only: only reads, plans or finishes; never asked about, in any approval mode. changes_workspace: whether a
    finished call may have changed the workspace ("on_success": only when it succeeded). ends_run: a successful call
    finishes the turn. risk: why a call with these arguments needs the user's approval even in the "risky" mode (None:
    only the "always" mode asks, and only when the tool is not read-only). reports: what its result's data carries
    for the event stream (an edit's diff, a plan's steps, a test run's outcomes). offered: listed to the model in the
    tool loop (False: a tool that only coder's own strategies call, never the model)."""

    name: str
    description: str
    args: type[A]
    run: Callable[[A, Workspace], ToolResult]
    read_only: bool = False
    changes_workspace: Changes = "never"
    ends_run: bool = False
    risk: Callable[[dict[str, Any]], str | None] | None = None
    reports: Reports | None = None
    offered: bool = True

    def may_have_changed(self, ok: bool) -> bool:
        """Whether a finished call may have changed the workspace."""
        return self.changes_workspace == "always" or (self.changes_workspace == "on_success" and ok)

    def schema(self) -> dict[str, Any]:
        """The OpenAI function-tool schema the model sees, derived from the pydantic model."""
        params = _without_titles(self.args.model_json_schema())
        return {
            "type": "function",
            "function": {"name": self.name, "description": self.description, "parameters": params},
        }


def format_validation_error(exc: ValidationError) -> str:
    """Short, model-readable description of what was wrong with a tool's arguments."""
    parts = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"]) or "(arguments)"
        parts.append(f"{loc}: {err['msg']}")
    return "; ".join(parts)


def _without_titles(schema: Any) -> Any:
    """Drop pydantic's auto-generated "title" keys: they cost the model tokens and say nothing new."""
    if isinstance(schema, dict):
        return {k: _without_titles(v) for k, v in schema.items()
                if not (k == "title" and isinstance(v, str))}
    if isinstance(schema, list):
        return [_without_titles(v) for v in schema]
    return schema


@dataclass
class WorkspaceOptions:
    """Per-run settings the host sends at initialize."""

    test_command: str | None = None
    bash_timeout: float = 120.0
    output_cap: int = DEFAULT_OUTPUT_CAP
    env: dict[str, str] = field(default_factory=dict)
    python: str | None = None  # the repository's Python (None: the server's own, as in the local sandbox)
    kill_strays: bool = False  # after each command, kill every other process of this user (only in a container)
    test_timeout: float | None = None  # seconds per test where the runner allows it (pytest, unittest); None: none


class Workspace:
    """The sandboxed repo copy the tools act on; it owns path safety and per-run tool state."""

    def __init__(self, root: Path, options: WorkspaceOptions | None = None) -> None:
        self.root = root.resolve()
        self.options = options or WorkspaceOptions()
        self.state: dict[str, Any] = {}  # per-tool warm state (parse cache, edit history, ...)

    @property
    def python(self) -> str:
        """The interpreter that runs the repository's code and tests."""
        return self.options.python or sys.executable

    def resolve(self, path: str, *, must_exist: bool = True) -> Path:
        """Map a model-supplied path to a real path inside the workspace, or raise ToolError."""
        if not isinstance(path, str) or path.strip() == "":
            raise ToolError("path must be a non-empty string relative to the repository root")
        if "\x00" in path:
            raise ToolError("path contains a NUL byte")
        raw = Path(path.strip())
        candidate = raw if raw.is_absolute() else self.root / raw
        # Resolve symlinks and '..' and check the result stays inside the root.
        resolved = Path(os.path.realpath(candidate))
        if resolved != self.root and self.root not in resolved.parents:
            raise ToolError(
                f"path '{path}' is outside the repository; use a path relative to the repository root"
            )
        if must_exist and not resolved.exists():
            raise ToolError(f"path '{path}' does not exist")
        return resolved

    def rel(self, path: Path) -> str:
        """Repository-relative POSIX path for display."""
        try:
            rel = path.resolve().relative_to(self.root)
        except ValueError:
            return str(path)
        return "." if str(rel) == "." else rel.as_posix()


def is_binary(data: bytes) -> bool:
    """Heuristic: a NUL byte in the first 8 KiB means binary."""
    return b"\x00" in data[:8192]


def read_text(path: Path, ws: Workspace) -> str:
    """Read a text file losslessly (undecodable bytes survive via surrogateescape) or raise ToolError."""
    if path.is_dir():
        raise ToolError(f"'{ws.rel(path)}' is a directory")
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise ToolError(
            f"'{ws.rel(path)}' is {size} bytes, over the {MAX_FILE_BYTES}-byte limit; use grep or bash (head/sed) to look inside"
        )
    data = path.read_bytes()
    if is_binary(data):
        raise ToolError(f"'{ws.rel(path)}' is a binary file ({size} bytes); it cannot be shown or edited as text")
    return data.decode("utf-8", errors="surrogateescape")


def write_text(path: Path, text: str) -> None:
    """Write text back with the same lossless encoding read_text used."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode("utf-8", errors="surrogateescape"))


def display(text: str) -> str:
    """Make text safe to show the model: undecodable bytes become U+FFFD."""
    return text.encode("utf-8", errors="surrogateescape").decode("utf-8", errors="replace")


def elide(text: str, cap: int) -> str:
    """Keep the head and tail of long output with a note saying how much was cut."""
    if len(text) <= cap:
        return text
    head = cap * 2 // 3
    tail = cap - head
    cut = len(text) - head - tail
    return f"{text[:head]}\n\n[... {cut} characters elided ...]\n\n{text[-tail:]}"
