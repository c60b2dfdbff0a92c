"""Render a conversation with the model's own chat template (the Jinja template stored in the GGUF)."""

from __future__ import annotations

import json
from datetime import datetime
from functools import lru_cache
from typing import Any

from jinja2.exceptions import TemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment


def _raise(message: str) -> None:
    raise TemplateError(message)


@lru_cache(maxsize=8)
def _compile(template: str) -> Any:
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
    env.filters["tojson"] = lambda value, indent=None: json.dumps(value, ensure_ascii=False, indent=indent)
    env.globals["raise_exception"] = _raise
    env.globals["strftime_now"] = lambda fmt: datetime.now().strftime(fmt)
    return env.from_string(template)


def _normalise(message: dict[str, Any]) -> dict[str, Any]:
    """OpenAI messages carry tool-call arguments as JSON text; chat templates expect objects."""
    out = dict(message)
    if out.get("content") is None:
        out["content"] = ""
    calls = []
    for call in out.get("tool_calls") or []:
        function = dict(call.get("function", {}))
        arguments = function.get("arguments")
        if isinstance(arguments, str):
            try:
                function["arguments"] = json.loads(arguments)
            except json.JSONDecodeError:
                pass
        calls.append({**call, "function": function})
    if calls:
        out["tool_calls"] = calls
    return out


def render_chat(template: str, messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None) -> str:
    """The prompt text for MESSAGES (and TOOLS), ending with the assistant turn's opening."""
    if not template:
        raise ValueError("the model file carries no chat template (tokenizer.chat_template)")
    return str(_compile(template).render(messages=[_normalise(m) for m in messages], tools=tools or None,
                                         add_generation_prompt=True, bos_token="", eos_token=""))
