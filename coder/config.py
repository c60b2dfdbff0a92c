"""Configuration: pydantic models with extra="forbid", merged defaults < pyproject/.coder.toml < CODER_* env < flags;
files inside the repo may strengthen the settings in GUARDED but never weaken them."""

from __future__ import annotations

import json
import os
import re
import shlex
import sys
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .errors import ConfigError as ConfigError  # re-exported: where config raises it
from .models.config import ModelConfig


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LimitsConfig(Section):
    max_steps: int = Field(30, ge=1, description="Model calls per run.")
    max_tokens: int = Field(500_000, ge=1, description="Prompt plus completion tokens per run.")
    max_wall_seconds: float = Field(1800, gt=0, description="Wall-clock seconds per run.")


class AgentConfig(Section):
    strategy: Literal["auto", "tools", "guided"] = Field(
        "auto", description="How the agent works: tools = the free tool loop (the model calls tools until it "
        "submits); guided = localize from the tests, ask for whole corrected functions, sample and validate (for "
        "small models); auto = guided for the bundled runtime's models of 3B parameters or fewer, else tools.")
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
    environment: Literal["auto", "none"] = Field(
        "auto", description="auto: detect the repo's languages and dependencies and run on a cached environment image "
        "built from them (toolchain, dependencies, test runner; see docs/environments.md); none: the sandbox image as "
        "it is (plus sandbox.setup when set).")
    memory: str = Field("2g", description="Memory for the container's processes (swap included); the tmpfs sizes are added on top.")
    cpus: float = Field(2.0, gt=0, description="Container CPU limit.")
    pids: int = Field(512, ge=16, description="Container process limit.")
    workspace_size: str = Field("2g", description="Size of the container's /workspace tmpfs.")


class TestsConfig(Section):
    command: str | None = Field(None, description="Test command; detected (pytest, unittest, npm, go, cargo) when unset.")
    timeout: float | None = Field(None, gt=0, description="Seconds per test where the runner allows it (pytest, "
                                                          "unittest): a test past it fails; unset: no per-test limit.")


class GuidedConfig(Section):
    candidates: int = Field(6, ge=1, le=64, description="Candidate repairs per round (the first greedy, then sampled).")
    rounds: int = Field(2, ge=1, le=8, description="Rounds (the budget is candidates x rounds); a round with nothing "
                                                    "to keep is followed by one showing the best attempt and its new "
                                                    "failure; a kept partial fix starts a new round at once.")
    functions: int = Field(3, ge=1, le=8, description="Most functions shown to the model in one prompt.")
    file_lines: int = Field(100, ge=0, le=1000, description="A ranked function's file up to this many lines is also "
                                                           "shown whole, in its own prompt (0: never).")
    temperature: float = Field(0.8, ge=0, le=2, description="Sampling temperature after the first (greedy) candidate.")
    reply_tokens: int = Field(1024, ge=64, description="Most tokens of one reply (a diagnosis and whole functions).")
    code_grammar: bool = Field(True, description="On the bundled runtime, constrain each repair reply to a short "
                                                 "diagnosis and one fenced code block (no reply without code).")
    repro_tries: int = Field(2, ge=0, le=8, description="With no failing test and a repro in the issue: attempts at "
                                                        "a test that reproduces it (0: never ask).")
    seed: int = Field(0, ge=0, le=1_000_000, description="Sets the sampled candidates' seeds (candidate N of seed S "
                                                        "samples with S*1000+N): the same seed replays the same run; "
                                                        "`coder eval --runs N` gives each run its own.")


class PromptsConfig(Section):
    system: str = "system.j2"
    task: str = "task.j2"
    format_error: str = "format_error.j2"
    repeat_hint: str = "repeat_hint.j2"
    submit_check: str = "submit_check.j2"
    repair: str = "repair.j2"
    repair_feedback: str = "repair_feedback.j2"
    repair_code: str = "repair_code.j2"
    repro_test: str = "repro_test.j2"
    choose: str = "choose.j2"


class Config(Section):
    model: ModelConfig = Field(default_factory=ModelConfig)
    limits: LimitsConfig = Field(default_factory=LimitsConfig)
    guided: GuidedConfig = Field(default_factory=GuidedConfig)
    agent: AgentConfig = Field(default_factory=AgentConfig)
    sandbox: SandboxConfig = Field(default_factory=SandboxConfig)
    tests: TestsConfig = Field(default_factory=TestsConfig)
    prompts: PromptsConfig = Field(default_factory=PromptsConfig)
    trajectory_dir: str | None = Field(None, description="Where trajectories go; default: the user cache dir.")




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
    """CODER_SECTION__KEY=value (e.g. CODER_MODEL__BASE_URL), CODER_KEY for a top-level key (CODER_TRAJECTORY_DIR);
    the raw text is converted by each field's type."""
    layer: dict[str, Any] = {}
    top_level = {name for name, info in Config.model_fields.items()
                 if not (isinstance(info.annotation, type) and issubclass(info.annotation, BaseModel))}
    for key, raw in environ.items():
        if key.startswith("CODER_") and "__" not in key and key[len("CODER_"):].lower() in top_level:
            layer[key[len("CODER_"):].lower()] = raw
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


# ---------------------------------------------------------------- what files inside the repo may not weaken

Warn = Callable[[str], None]


@dataclass(frozen=True)
class Guard:
    """A setting that decides how isolated or how reviewed a run is: its values from strongest to weakest."""

    order: str  # strongest to weakest, as the docs and the warning say it
    weaker: Callable[[Any, Any], bool]  # (value, baseline) -> whether VALUE is weaker than BASELINE
    loosens: str  # what a weaker value would loosen
    flag: str | None = None  # the command-line flag that sets it, if any


def _ranked(*values: str, loosens: str, flag: str | None = None) -> Guard:
    return Guard(" > ".join(values), lambda value, base: values.index(value) > values.index(base), loosens, flag)


def _at_most(convert: Callable[[Any], float], loosens: str) -> Guard:
    return Guard("lower > higher", lambda value, base: convert(value) > convert(base), loosens)


def _default_only(loosens: str) -> Guard:
    return Guard("the default > any other value", lambda value, base: value != base, loosens)


_SIZE = re.compile(r"(\d+(?:\.\d+)?)([kmgt]?)b?", re.IGNORECASE)


def _size(size: Any) -> float:
    """Docker's sizes ('512m', '2g', bytes) in bytes; an unreadable size counts as unbounded."""
    match = _SIZE.fullmatch(str(size).strip())
    return float(match.group(1)) * 1024 ** " kmgt".index(match.group(2).lower() or " ") if match else float("inf")


LIMITS = "the sandbox's resource limits"
# Every setting a file inside the repo (pyproject [tool.coder], .coder.toml: committed by anyone, or added by an
# accepted patch) could use to weaken a run. Such a file may set a value as strong as the default or stronger; a
# weaker one is left out with a warning. The user's own CODER_* variables and flags may set anything.
GUARDED: dict[str, Guard] = {
    "sandbox.kind": _ranked("docker", "auto", "local", loosens="isolation (local runs commands on the host)",
                            flag="--sandbox"),
    "agent.approval": _ranked("always", "risky", "never", loosens="review of the agent's calls", flag="--approval"),
    "sandbox.image": _default_only("the sandbox image (one coder built)"),
    "sandbox.base_image": _default_only("the base of the sandbox image"),
    "sandbox.setup": _default_only("isolation (the setup command runs as root with network access)"),
    "sandbox.environment": _ranked("none", "auto", loosens="isolation (auto runs the repo's install steps with "
                                   "network access at build time)"),
    "sandbox.memory": _at_most(_size, LIMITS),
    "sandbox.workspace_size": _at_most(_size, LIMITS),
    "sandbox.cpus": _at_most(float, LIMITS),
    "sandbox.pids": _at_most(float, LIMITS),
    "sandbox.bash_timeout": _at_most(float, LIMITS),
    "sandbox.output_cap": _at_most(float, LIMITS),
    "model.path": _default_only("isolation (a model file is parsed on the host, outside the sandbox)"),
    "trajectory_dir": _default_only("isolation (trajectories and patches are written there on the host)"),
}


def _has(layer: Mapping[str, Any], dotted: str) -> bool:
    node: Any = layer
    for part in dotted.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return False
        node = node[part]
    return True


def _value(config: BaseModel, dotted: str) -> Any:
    node: Any = config
    for part in dotted.split("."):
        node = getattr(node, part)
    return node


def _without(layer: Mapping[str, Any], dotted: str) -> dict[str, Any]:
    head, _, rest = dotted.partition(".")
    if not rest:
        return {k: v for k, v in layer.items() if k != head}
    return {**layer, head: _without(layer[head], rest)}


def env_name(dotted: str) -> str:
    return "CODER_" + dotted.upper().replace(".", "__")


def _visible(text: str) -> str:
    """Control characters (a repo's values may hold ESC or newlines) as escapes: the warning stays one honest line."""
    return "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in text)


def _refusal(source: str, key: str, value: Any, guard: Guard) -> str:
    shown = json.dumps(value) if isinstance(value, str) else str(value)
    text = str(value)
    if text.isascii() and text.isprintable() and len(text) <= 80:
        allow = f"set {env_name(key)}={shlex.quote(text)}"
        allow = f"pass {guard.flag} {shlex.quote(text)} or {allow}" if guard.flag else allow
    else:
        allow = f"set {env_name(key)} yourself"
    return _visible(f"ignored {key} = {shown} from {source}: a file inside the repository may not weaken "
                    f"{guard.loosens} ({guard.order}); to allow it, {allow}")


def guard_repo_layer(source: str, layer: Mapping[str, Any], user_layers: list[dict[str, Any]],
                     warn: Warn) -> dict[str, Any]:
    """LAYER, read from SOURCE inside the repo, without its GUARDED values weaker than the defaults; a warning for
    each one the user's own layers do not set anyway."""
    typed, defaults = Config.model_validate(layer), Config()
    kept = dict(layer)
    for key, guard in GUARDED.items():
        if not _has(layer, key) or not guard.weaker(_value(typed, key), _value(defaults, key)):
            continue
        kept = _without(kept, key)
        if not any(_has(user, key) for user in user_layers):
            warn(_refusal(source, key, _value(typed, key), guard))
    return kept



def stderr_warnings(environ: Mapping[str, str]) -> Warn:
    """Print each warning as one stderr line; inside a GitHub Actions run, as an annotation on the run's page."""
    if environ.get("GITHUB_ACTIONS") == "true":
        return lambda message: print("::warning title=coder configuration::" + message.replace("%", "%25"),
                                     file=sys.stderr, flush=True)
    return lambda message: print(f"coder: warning: {message}", file=sys.stderr, flush=True)


def load_config(repo: Path, flags: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None,
                warn: Warn | None = None) -> Config:
    """Merge every layer and validate; any problem raises ConfigError naming its source.

    A value from a file inside the repo that would weaken a GUARDED setting is left out, and WARN (default: a line on
    stderr) says so, unless the user's environment or flags set that key themselves."""
    env = environ if environ is not None else os.environ
    files = file_layers(repo)
    user = [("CODER_* environment variables", env_layer(env)), ("flags", dotted_layer(flags or {}))]
    for source, layer in [*files, *user]:
        try:
            Config.model_validate(layer)  # validate each layer alone so errors name their source
        except ValidationError as exc:
            raise ConfigError(_describe(exc, source)) from exc
    say = warn if warn is not None else stderr_warnings(env)
    merged: dict[str, Any] = {}
    for source, layer in files:
        merged = _deep_merge(merged, guard_repo_layer(source, layer, [u for _, u in user], say))
    for _, layer in user:
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
