"""The one list of tools: names, argument models and schemas, shared by the server and the host."""

from __future__ import annotations

from typing import Any

from . import control, edit, files, localize, navigation, rewrite, search, shell, source, test_source, testrun
from .base import ToolSpec

_MODULES = (files, edit, search, navigation, localize, testrun, shell, control, rewrite, source, test_source)


def all_tools() -> dict[str, ToolSpec[Any]]:
    """Every tool by name, in the order the model sees them."""
    tools: dict[str, ToolSpec[Any]] = {}
    for module in _MODULES:
        for spec in module.TOOLS:
            if spec.name in tools:
                raise RuntimeError(f"duplicate tool name {spec.name}")
            tools[spec.name] = spec
    return tools


def tool_schemas(names: list[str] | None = None) -> list[dict[str, Any]]:
    """OpenAI function schemas for the named tools (all when None)."""
    tools = all_tools()
    chosen = names if names is not None else list(tools)
    return [tools[n].schema() for n in chosen]
