"""The model endpoint an eval configuration talks to: one local runtime per model shared by every worker and harness,
or a remote OpenAI-compatible URL."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..models.base import Model
from ..models.config import ModelConfig


@dataclass
class Endpoint:
    """A resolved OpenAI-compatible endpoint (base_url, name, sampling) plus what the agent's context budget needs.

    Picklable for Ray: the token counter is rebuilt from the server where it is missing."""

    label: str
    config: ModelConfig
    context_window: int | None = None
    token_counter: Any = field(default=None, repr=False)

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "token_counter": None}

    def make_model(self) -> Model:
        """A fresh client for one run (clients hold per-run state, such as a refused native-tools fallback)."""
        from ..models.openai_compat import OpenAICompatModel

        if self.context_window and self.token_counter is None:
            from ..models.tokens import token_counter

            self.token_counter = token_counter(None, self.config.base_url)
        return OpenAICompatModel(self.config, context_window=self.context_window, token_counter=self.token_counter)


def model_label(config: ModelConfig) -> str:
    """How a model is named in tables: the registry name or GGUF stem (local), else the endpoint's model name."""
    if config.provider == "local":
        if config.path:
            return Path(config.path).stem
        if config.local_model:
            return config.local_model
        from ..runtime.fetch import default_model
        from ..runtime.hardware import total_memory

        return default_model(total_memory())[0]
    return config.name


def with_model(base: ModelConfig, name: str | None) -> ModelConfig:
    """BASE with --model NAME applied: a registry name or .gguf path for the local runtime, else the endpoint's name."""
    if name is None:
        return base
    if base.provider == "local":
        if name.endswith(".gguf") or Path(name).expanduser().is_file():
            return base.model_copy(update={"path": str(Path(name).expanduser()), "local_model": None})
        return base.model_copy(update={"local_model": name, "path": None})
    return base.model_copy(update={"name": name})


def open_endpoint(config: ModelConfig, stack: ExitStack, workers: int,
                  progress: Callable[[str], None] = lambda _: None) -> Endpoint:
    """Start the local runtime (stopped when STACK closes) or probe the remote endpoint; one Endpoint for all runs.

    Every worker queues on the same local server, so the per-request timeout grows with the number of workers."""
    from ..factories import build_model

    label = model_label(config)
    model = build_model(config, stack, probe=True, progress=progress)
    resolved = model.config
    if config.provider == "local":
        resolved = resolved.model_copy(update={"timeout": config.timeout * max(1, workers)})
    model.close()
    return Endpoint(label, resolved, model.context_window, model.token_counter)
