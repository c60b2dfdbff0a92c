"""What an endpoint says about itself: its context window, chat template and runtime details (for the agent and doctor)."""

from __future__ import annotations

import json
import urllib.request
from typing import Any
from urllib.parse import urlsplit

import openai


def server_props(base_url: str) -> dict[str, Any]:
    """llama.cpp server's /props (context size, chat template), when the endpoint has it."""
    parts = urlsplit(base_url)
    root = f"{parts.scheme}://{parts.netloc}"
    try:
        with urllib.request.urlopen(f"{root}/props", timeout=5) as response:
            data = json.loads(response.read())
            return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def model_meta(client: openai.OpenAI, name: str) -> dict[str, Any]:
    """The `meta` coder's runtime (and llama.cpp) report for NAME in /v1/models: n_ctx, threads, chat template."""
    try:
        for model in client.models.list().data:
            extra = model.model_extra or {}
            if model.id == name and isinstance(extra.get("meta"), dict):
                return dict(extra["meta"])
    except openai.OpenAIError:
        pass
    return {}


def endpoint_context_window(base_url: str, name: str) -> int | None:
    """The context size the endpoint reports (coder's runtime: /v1/models meta; llama.cpp server: /props)."""
    client = openai.OpenAI(base_url=base_url, api_key="none", timeout=10, max_retries=0)
    n_ctx = model_meta(client, name).get("n_ctx") or \
        (server_props(base_url).get("default_generation_settings") or {}).get("n_ctx")
    return int(n_ctx) if isinstance(n_ctx, int) and not isinstance(n_ctx, bool) and n_ctx > 0 else None
