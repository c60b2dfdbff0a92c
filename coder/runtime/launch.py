"""provider = "local": pick and fetch the model, then start the bundled runtime with explicit context and threads."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..config import ConfigError
from ..models.config import ModelConfig
from ..models.gguf_meta import GGUFError, context_length, read_metadata
from .hardware import physical_cores, total_memory
from .process import LocalRuntime

MAX_DEFAULT_CONTEXT = 32768


@dataclass(frozen=True)
class LocalModelChoice:
    path: Path
    name: str
    reason: str


def choose_model(config: ModelConfig, progress: Callable[[str], None]) -> LocalModelChoice:
    """The GGUF to serve: model.path, else model.local_model, else the default that fits this machine's memory.
    A registry model that is not downloaded yet is fetched now (first use)."""
    if config.path:
        path = Path(config.path).expanduser()
        if not path.is_file():
            raise ConfigError(f"model.path {path} does not exist")
        return LocalModelChoice(path, path.stem, "model.path")
    from . import fetch

    name, reason = config.local_model, "model.local_model"
    if name is None:
        name, reason = fetch.default_model(total_memory())
    try:
        return LocalModelChoice(fetch.path(name), name, reason)
    except Exception:  # not downloaded (or unknown: pull says which)
        pass
    progress(f"fetching {name} on first use ...")
    try:
        return LocalModelChoice(fetch.pull(name), name, reason)
    except Exception as exc:
        raise ConfigError(f"could not fetch model {name}: {exc}") from exc


def runtime_for(config: ModelConfig, progress: Callable[[str], None] = lambda _: None) -> tuple[LocalRuntime, str]:
    """(runtime to start, a line saying what will run and why)."""
    choice = choose_model(config, progress)
    try:
        meta = read_metadata(choice.path)
    except (GGUFError, OSError) as exc:
        raise ConfigError(f"{choice.path} is not a usable GGUF file ({exc}); re-fetch it with "
                          f"`coder models rm {choice.name}` then `coder models pull {choice.name}`") from exc
    trained = context_length(meta) or MAX_DEFAULT_CONTEXT
    n_ctx = config.context or min(trained, MAX_DEFAULT_CONTEXT)
    threads = config.threads or physical_cores()
    note = (f"local runtime: {choice.name} ({choice.reason}), context {n_ctx} tokens (model trained on {trained}), "
            f"{threads} threads, tool-call grammar {'on' if config.grammar else 'off'}"
            + (f", prompt-lookup decoding of {config.prompt_lookup} tokens" if config.prompt_lookup else ""))
    return LocalRuntime(choice.path, choice.name, n_ctx, threads, grammar=config.grammar,
                        prompt_lookup=config.prompt_lookup, kv_states_mb=config.kv_states_mb), note
