"""Configuration: pydantic models with extra="forbid", merged defaults < pyproject/.coder.toml < CODER_* env < flags."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, Literal, Mapping

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .models.config import ModelConfig


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LimitsConfig(Section):
    max_steps: int = Field(30, ge=1, description="Model calls per run.")
    max_tokens: int = Field(500_000, ge=1, description="Prompt plus completion tokens per run.")
    max_wall_seconds: float = Field(1800, gt=0, description="Wall-clock seconds per run.")


class AgentConfig(Section):
    observation_cap: int = Field(8000, ge=500, description="Characters of tool output shown to the model (head/tail kept).")
    repeat_hint_after: int = Field(2, ge=2, description="Identical failing calls (in a row, or same call and error with nothing changed between) before a hint.")
    repeat_give_up_after: int = Field(4, ge=3, description="Identical failing calls, counted like repeat_hint_after, before giving up.")
    stream: bool = Field(True, description="Stream model text as it is generated.")
    baseline_tests: bool = Field(True, description="Run the tests before the first step, for fail->pass reporting.")
    tool_format: Literal["native", "text"] = Field(
        "native", description="native: tools sent through the API; text: described in the system prompt."
    )
    approval: Literal["never", "risky", "always"] = Field(
        "never", description="Ask before running calls: never; risky ones (bash, writes to unusual files); always "
                             "(every call that writes or runs something).")
    snapshots: bool = Field(True, description="Snapshot the workspace before every step, so a step can be undone.")


class SandboxConfig(Section):
    kind: Literal["auto", "local", "docker"] = "auto"
    bash_timeout: float = Field(120, gt=0, description="Seconds before a bash or test command is killed.")
    output_cap: int = Field(20_000, ge=1000, description="Characters of raw tool output kept by the tool server.")
    image: str | None = Field(None, description="Sandbox image; default: the tag `coder sandbox build` makes.")
    base_image: str = Field("python:3.11-slim", description="Base of the sandbox image (needs python3.11 and venv).")
    setup: str | None = Field(None, description="Per-repo setup command run at build time with network, cached.")
    memory: str = Field("2g", description="Memory for the container's processes (swap included); the tmpfs sizes are added on top.")
    cpus: float = Field(2.0, gt=0, description="Container CPU limit.")
    pids: int = Field(512, ge=16, description="Container process limit.")
    workspace_size: str = Field("2g", description="Size of the container's /workspace tmpfs.")


class TestsConfig(Section):
    command: str | None = Field(None, description="Test command; detected (pytest, unittest, npm, go, cargo) when unset.")


class PromptsConfig(Section):
    system: str = "system.j2"
    task: str = "task.j2"
    format_error: str = "format_error.j2"
    repeat_hint: str = "repeat_hint.j2"
    submit_check: str = "submit_check.j2"


class Config(Section):
    model: ModelConfig = Field(default_factory=ModelConfig)
    limits: LimitsConfig = Field(default_factory=LimitsConfig)
    agent: AgentConfig = Field(default_factory=AgentConfig)
    sandbox: SandboxConfig = Field(default_factory=SandboxConfig)
    tests: TestsConfig = Field(default_factory=TestsConfig)
    prompts: PromptsConfig = Field(default_factory=PromptsConfig)
    trajectory_dir: str | None = Field(None, description="Where trajectories go; default: the user cache dir.")


class ConfigError(Exception):
    """A configuration problem, described in one line."""


def _deep_merge(base: dict[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from exc


def file_layers(repo: Path) -> list[tuple[str, dict[str, Any]]]:
    """[tool.coder] from pyproject.toml, then .coder.toml (which wins)."""
    layers: list[tuple[str, dict[str, Any]]] = []
    pyproject = repo / "pyproject.toml"
    if pyproject.is_file():
        section = _read_toml(pyproject).get("tool", {}).get("coder")
        if isinstance(section, dict):
            layers.append((f"{pyproject} [tool.coder]", section))
    dotfile = repo / ".coder.toml"
    if dotfile.is_file():
        layers.append((str(dotfile), _read_toml(dotfile)))
    return layers


def env_layer(environ: Mapping[str, str]) -> dict[str, Any]:
    """CODER_SECTION__KEY=value (e.g. CODER_MODEL__BASE_URL); the raw text is converted by each field's type."""
    layer: dict[str, Any] = {}
    for key, raw in environ.items():
        if not key.startswith("CODER_") or "__" not in key:
            continue
        path = [p.lower() for p in key[len("CODER_") :].split("__")]
        node = layer
        for part in path[:-1]:
            node = node.setdefault(part, {})
        node[path[-1]] = raw
    return layer


def dotted_layer(overrides: Mapping[str, Any]) -> dict[str, Any]:
    """{"model.name": "x"} -> {"model": {"name": "x"}}; None values are dropped (flag not given)."""
    layer: dict[str, Any] = {}
    for dotted, value in overrides.items():
        if value is None:
            continue
        node = layer
        parts = dotted.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return layer


def _describe(exc: ValidationError, source: str) -> str:
    err = exc.errors()[0]
    loc = ".".join(str(p) for p in err["loc"])
    if err["type"] == "extra_forbidden":
        return f"{source}: unknown setting '{loc}'"
    return f"{source}: {loc}: {err['msg']}"


def load_config(
    repo: Path, flags: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None
) -> Config:
    """Merge every layer and validate; any problem raises ConfigError naming its source."""
    env = environ if environ is not None else os.environ
    layers = [*file_layers(repo), ("CODER_* environment variables", env_layer(env)), ("flags", dotted_layer(flags or {}))]
    merged: dict[str, Any] = {}
    for source, layer in layers:
        try:
            Config.model_validate(layer)  # validate each layer alone so errors name their source
        except ValidationError as exc:
            raise ConfigError(_describe(exc, source)) from exc
        merged = _deep_merge(merged, layer)
    try:
        return Config.model_validate(merged)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, "configuration")) from exc


PROJECT_INSTRUCTION_FILES = ("AGENTS.md", "CODER.md")


def project_instructions(repo: Path, limit: int = 8000) -> tuple[str, str] | None:
    """(file name, text) of AGENTS.md or CODER.md in the repo root, capped, if present."""
    for name in PROJECT_INSTRUCTION_FILES:
        path = repo / name
        if path.is_file():
            text = path.read_text(encoding="utf-8", errors="replace").strip()
            if len(text) > limit:
                text = text[:limit] + "\n[... truncated ...]"
            return name, text
    return None
