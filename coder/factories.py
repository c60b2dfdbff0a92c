"""Build the model and pick the sandbox from configuration (chosen by config, never by sniffing names)."""

from __future__ import annotations

from typing import Callable

from .config import ConfigError, SandboxConfig
from .models.base import Model, ModelError
from .models.config import ModelConfig
from .sandboxes.base import Sandbox, SandboxError


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


def docker_sandbox(config: SandboxConfig, repo_for_setup: object = None,
                   progress: Callable[[str], None] = lambda _: None) -> Sandbox:
    """A DockerSandbox for the configured image, or SandboxError saying what is missing."""
    from pathlib import Path

    from .sandboxes.docker import DockerLimits, DockerSandbox, docker_client
    from .sandboxes.docker_image import ensure_setup_image, image_tag

    client = docker_client()
    image = config.image or image_tag()
    try:
        client.images.get(image)
    except Exception as exc:
        raise SandboxError(f"the sandbox image {image} is not built yet: run `coder sandbox build` "
                           f"(offline: `coder sandbox base` first, then `coder sandbox build --base coder-base:bookworm`)") from exc
    if config.setup and isinstance(repo_for_setup, Path):
        image = ensure_setup_image(client, repo_for_setup, config.setup, image, progress)
    limits = DockerLimits(memory=config.memory, cpus=config.cpus, pids=config.pids, workspace_size=config.workspace_size)
    return DockerSandbox(image=image, limits=limits, client=client)


def choose_sandbox(config: SandboxConfig, repo: object = None,
                   progress: Callable[[str], None] = lambda _: None) -> tuple[Sandbox, str | None]:
    """(sandbox, warning): Docker when asked for, or under 'auto' when usable; else the local sandbox."""
    from .sandboxes.local import LocalSandbox

    if config.kind == "local":
        return LocalSandbox(), None
    try:
        return docker_sandbox(config, repo, progress), None
    except SandboxError as exc:
        if config.kind == "docker":
            raise ConfigError(str(exc)) from exc
        return LocalSandbox(), f"{exc}; falling back to the local sandbox (a temporary copy, not isolated)"
