"""Build the model, pick the sandbox and open an agent from configuration (chosen by config, never by sniffing names)."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack, closing
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .config import Config, ConfigError, SandboxConfig
from .models.base import ModelError
from .models.config import ModelConfig
from .models.endpoint_info import endpoint_context_window
from .models.tokens import token_counter
from .sandboxes.base import Sandbox, SandboxError
from .task import Task

if TYPE_CHECKING:
    from .agent import Agent, CheckedSandbox
    from .agent.approval import Approver
    from .models.openai_compat import OpenAICompatModel


def build_model(config: ModelConfig, stack: ExitStack | None = None, probe: bool = True,
                progress: Callable[[str], None] = lambda _: None) -> OpenAICompatModel:
    """The model client for the configured provider; probe=True checks the endpoint answers first.

    provider = "local" starts the bundled runtime (stopped when STACK closes) and talks to it like any endpoint. The
    client is told the context window the endpoint reports, with a token counter for it (the GGUF's own tokenizer for
    the bundled runtime), so the agent can keep the conversation inside the window."""
    from .models.openai_compat import OpenAICompatModel

    gguf: Path | None = None
    if config.provider == "local":
        if stack is None:
            raise ValueError("the local provider needs an ExitStack to own the runtime process")
        from .runtime.launch import runtime_for

        runtime, note = runtime_for(config, progress)
        progress(note)
        try:
            info = stack.enter_context(runtime)
        except ModelError as exc:
            raise ConfigError(str(exc)) from exc
        config = config.model_copy(update={"base_url": info.url, "name": info.name, "api_key": None})
        gguf = info.model_path

    if probe:
        with closing(OpenAICompatModel(config)) as client:
            try:
                client.probe()
            except ModelError as exc:
                raise ConfigError(str(exc)) from exc
    window = endpoint_context_window(config.base_url, config.name)
    counter = token_counter(gguf, config.base_url) if window else None
    return OpenAICompatModel(config, context_window=window, token_counter=counter)


def built_sandbox_image(client: Any, config: SandboxConfig) -> str:
    """The configured sandbox image's tag, or SandboxError naming the command that builds it."""
    from .sandboxes.docker_image import image_tag

    image = config.image or image_tag()
    try:
        client.images.get(image)
    except Exception as exc:
        raise SandboxError(f"the sandbox image {image} is not built yet: run `coder sandbox build` "
                           f"(offline: `coder sandbox base` first, then `coder sandbox build --base coder-base:bookworm`)") from exc
    return image


def prune_leftovers(client: Any, progress: Callable[[str], None] = lambda _: None) -> int:
    """Remove the sandbox containers whose coder process is gone (killed with SIGKILL, a crashed host): one list call.

    Stricter than `coder sandbox prune`: a container whose owner cannot be told (another host, no owner labels) may
    belong to a run still going, so only the user's explicit prune removes it. Says one line when it removed any."""
    from .sandboxes.docker_image import LABEL
    from .sandboxes.owner import liveness

    removed = 0
    try:
        containers = client.containers.list(all=True, filters={"label": LABEL})
    except Exception:  # housekeeping: the run itself will report an engine that does not answer
        return 0
    for container in containers:
        if liveness(container.labels or {}) != "gone":
            continue
        try:
            container.remove(force=True)
            removed += 1
        except Exception:  # already gone (another run pruned it first), or the engine refused: not this run's problem
            continue
    if removed:
        progress(f"removed {removed} sandbox container(s) left by coder runs that were killed")
    return removed


def docker_sandbox(config: SandboxConfig, repo_for_setup: object = None,
                   progress: Callable[[str], None] = lambda _: None) -> Sandbox:
    """A DockerSandbox for the configured image, or SandboxError saying what is missing.

    With a repo and sandbox.environment = "auto", the sandbox runs on the repo's environment image (detected, built
    on first use, cached); a build that fails raises ConfigError (never a silent fallback to the local sandbox)."""
    from .sandboxes.docker import DockerSandbox, docker_client
    from .sandboxes.docker_image import ensure_setup_image

    client = docker_client()
    prune_leftovers(client, progress)
    image = built_sandbox_image(client, config)
    env: dict[str, str] = {}
    if isinstance(repo_for_setup, Path) and config.environment == "auto":
        from .envs import EnvBuildError, describe, detect_environment, ensure_env_image

        spec = detect_environment(repo_for_setup, config.setup)
        progress(describe(spec))
        for note in spec.notes:
            progress(f"  {note}")
        try:
            built = ensure_env_image(client, repo_for_setup, spec, image, progress)
        except EnvBuildError as exc:
            raise ConfigError(str(exc)) from exc
        image, env = built.tag, built.env
    elif config.setup and isinstance(repo_for_setup, Path):
        image = ensure_setup_image(client, repo_for_setup, config.setup, image, progress)
    return DockerSandbox(image=image, limits=docker_limits(config), client=client, env=env)


def docker_limits(config: SandboxConfig) -> Any:
    """The container limits the configuration asks for (a DockerLimits)."""
    from .sandboxes.docker import DockerLimits

    return DockerLimits(memory=config.memory, cpus=config.cpus, pids=config.pids, workspace_size=config.workspace_size)


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


@dataclass
class OpenedAgent:
    """An Agent built from config, and the sandbox already opened on the task with its baseline judged (if asked)."""

    agent: Agent
    checked: CheckedSandbox | None
    warning: str | None  # the sandbox fell back to the local one, and why


def open_agent(config: Config, repo: Path, stack: ExitStack, *, task: Task | None = None,
               approver: Approver | None = None, progress: Callable[[str], None] = lambda _: None,
               warn: Callable[[str], None] = lambda _: None) -> OpenedAgent:
    """The one wiring of model and sandbox from config, shared by `coder fix`, the TUI and the GitHub Action.

    The sandbox first (with its environment image), so a build that fails never starts a model; with TASK, the
    sandbox is opened on it and its baseline tests judged before the model is built or downloaded (UsageError when
    they cannot run); then the model (the local runtime belongs to STACK). WARN hears a fallback to the local sandbox
    as soon as it is chosen; PROGRESS hears what is built and started."""
    from .agent import Agent, open_checked_or_refuse
    from .sandboxes.local import LocalSandbox

    sandbox, warning = choose_sandbox(config.sandbox, repo, progress)
    if warning:
        warn(warning)
    if isinstance(sandbox, LocalSandbox):  # which interpreter runs the tests (the user's own environment)
        progress(sandbox.describe(repo))
    checked = stack.enter_context(open_checked_or_refuse(sandbox, task, config)) if task is not None else None
    model = build_model(config.model, stack, progress=progress)
    return OpenedAgent(Agent(model, sandbox, config, approver=approver), checked, warning)
