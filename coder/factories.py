"""Build the model and pick the sandbox from configuration (chosen by config, never by sniffing names)."""

from __future__ import annotations

from .config import ConfigError
from .models.base import Model, ModelError
from .models.config import ModelConfig
from .sandboxes.base import Sandbox


def build_model(config: ModelConfig, probe: bool = True) -> Model:
    """The model client for the configured provider; probe=True checks the endpoint answers first."""
    if config.provider == "local":
        raise ConfigError("provider 'local' (the bundled llama.cpp runtime) is not available in this build; "
                          "set model.provider = \"openai_compat\" and model.base_url to a running server")
    from .models.openai_compat import OpenAICompatModel

    model = OpenAICompatModel(config)
    if probe:
        try:
            model.probe()
        except ModelError as exc:
            raise ConfigError(str(exc)) from exc
    return model


def choose_sandbox(kind: str) -> tuple[Sandbox, str | None]:
    """(sandbox, warning): docker when asked for or reachable under 'auto', else the local sandbox."""
    from .sandboxes.local import LocalSandbox

    if kind == "docker":
        raise ConfigError("the Docker sandbox is not available in this build; use --sandbox local")
    if kind == "auto":
        return LocalSandbox(), "no Docker sandbox in this build; using the local sandbox (a temporary copy, not isolated)"
    return LocalSandbox(), None
