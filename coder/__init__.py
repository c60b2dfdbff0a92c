"""coder: a Qwen-Coder-driven software agent that fixes bugs in a sandbox and hands back a patch.

The public API is the names in __all__ (checked by tests/test_public_api.py), loaded on first use so that `coder`
on the command line does not import the agent, the models and the sandboxes it does not need::

    from coder import Agent, Task, load_config, LocalSandbox
    from coder.testing import ScriptedModel, call, reply   # a scripted model for tests
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from .agent import Agent as Agent
    from .agent import AgentSession as AgentSession
    from .agent import SessionBusy as SessionBusy
    from .config import Config as Config
    from .config import load_config as load_config
    from .errors import CoderError as CoderError
    from .errors import ConfigError as ConfigError
    from .errors import ModelError as ModelError
    from .errors import SandboxError as SandboxError
    from .errors import UsageError as UsageError
    from .events import Event as Event
    from .events import RunFinished as RunFinished
    from .models.base import Model as Model
    from .models.base import ModelReply as ModelReply
    from .models.base import ToolCall as ToolCall
    from .models.openai_compat import OpenAICompatModel as OpenAICompatModel
    from .patch_headers import UnsafePatch as UnsafePatch
    from .sandboxes.base import Sandbox as Sandbox
    from .sandboxes.docker import DockerSandbox as DockerSandbox
    from .sandboxes.local import LocalSandbox as LocalSandbox
    from .task import Task as Task

_WHERE = {
    "Agent": "agent", "AgentSession": "agent", "SessionBusy": "agent",
    "Config": "config", "load_config": "config",
    "CoderError": "errors", "ConfigError": "errors", "ModelError": "errors", "SandboxError": "errors",
    "UsageError": "errors",
    "Event": "events", "RunFinished": "events",
    "Model": "models.base", "ModelReply": "models.base", "ToolCall": "models.base",
    "OpenAICompatModel": "models.openai_compat",
    "UnsafePatch": "patch_headers",
    "Sandbox": "sandboxes.base", "DockerSandbox": "sandboxes.docker", "LocalSandbox": "sandboxes.local",
    "Task": "task",
}
__all__ = ["Agent", "AgentSession", "CoderError", "Config", "ConfigError", "DockerSandbox", "Event", "LocalSandbox",
           "Model", "ModelError", "ModelReply", "OpenAICompatModel", "RunFinished", "Sandbox", "SandboxError",
           "SessionBusy", "Task", "ToolCall", "UnsafePatch", "UsageError", "__version__", "load_config"]


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_WHERE[name]}", __name__), name)
    globals()[name] = value  # looked up once
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_WHERE})
