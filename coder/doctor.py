"""`coder doctor`: probe the configured model endpoint (local or remote), the sandbox and the repository's environment."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import openai

from .config import Config, ConfigError
from .doctor_env import environment_report, render_lines
from .factories import build_model
from .models.config import ModelConfig
from .models.endpoint_info import model_meta, server_props

PROBE_TOOL: Any = {"type": "function", "function": {
    "name": "view_file", "description": "Show a file of the repository with line numbers.",
    "parameters": {"type": "object", "properties": {"path": {"type": "string", "description": "Path to the file."}},
                   "required": ["path"]}}}
PROBE_MESSAGES = [
    {"role": "system", "content": "You are a coding agent. Use the tools to act. " + "Be brief. " * 40},
    {"role": "user", "content": "Read the file README.md with the view_file tool."},
]


def classify_tool_format(message: dict[str, Any]) -> str:
    """Which shape the model used for its tool call: native, hermes, qwen3-xml, fenced-json, bare-json or none."""
    if message.get("tool_calls"):
        return "native"
    text = str(message.get("content") or "")
    if "<function=" in text:
        return "qwen3-xml"
    if "<tool_call>" in text:
        return "hermes"
    if re.search(r"```(?:json)?\s*\{", text):
        return "fenced-json"
    if re.search(r"\{\s*\"name\"\s*:", text):
        return "bare-json"
    return "none"


def _probe_call(client: openai.OpenAI, config: ModelConfig, name: str) -> dict[str, Any]:
    sampling = config.sampling()
    extra = {k: sampling.pop(k) for k in ("top_k", "repetition_penalty") if k in sampling}
    began = time.perf_counter()
    response = client.chat.completions.create(model=name, messages=PROBE_MESSAGES, tools=[PROBE_TOOL],  # type: ignore[arg-type]
                                              max_tokens=96, extra_body=extra, **sampling)
    wall = time.perf_counter() - began
    body = response.model_dump()
    usage = body.get("usage") or {}
    timings = (response.model_extra or {}).get("timings") or {}
    message = body["choices"][0]["message"]
    result: dict[str, Any] = {"tool_call_format": classify_tool_format(message), "wall_seconds": round(wall, 2),
                              "prompt_tokens": usage.get("prompt_tokens"), "completion_tokens": usage.get("completion_tokens")}
    if timings.get("prompt_ms") and timings.get("predicted_ms"):
        result["prefill_tokens_per_second"] = round(timings["prompt_n"] / (timings["prompt_ms"] / 1000), 1)
        result["decode_tokens_per_second"] = round(timings["predicted_n"] / (timings["predicted_ms"] / 1000), 1)
    elif usage.get("completion_tokens"):
        result["overall_tokens_per_second"] = round((usage["prompt_tokens"] + usage["completion_tokens"]) / wall, 1)
    return result


def _docker_status(config: Config) -> dict[str, Any]:
    from .sandboxes.base import SandboxError
    from .sandboxes.docker import docker_client
    from .sandboxes.docker_image import image_tag

    try:
        client = docker_client(timeout=5)
    except SandboxError as exc:
        return {"reachable": False, "detail": str(exc)}
    image = config.sandbox.image or image_tag()
    try:
        client.images.get(image)
        built = True
    except Exception:
        built = False
    return {"reachable": True, "image": image, "image_built": built}


def diagnose(config: Config, progress: Callable[[str], None] = lambda _: None,
             repo: Path | None = None) -> dict[str, Any]:
    """Everything doctor reports, as a JSON-ready dict (the endpoint is started when local). A model that cannot be
    reached or started is reported as probe_error; the sandbox and environment sections are reported all the same."""
    report: dict[str, Any] = {"provider": config.model.provider}
    try:
        _diagnose_model(config, progress, report)
    except ConfigError as exc:
        report["probe_error"] = str(exc)[:300]
    report["docker"] = _docker_status(config)
    report["environment"] = environment_report(config, (repo or Path(".")).resolve(), progress)
    return report


def _diagnose_model(config: Config, progress: Callable[[str], None], report: dict[str, Any]) -> None:
    with ExitStack() as stack:
        model = build_model(config.model, stack, probe=True, progress=progress)
        model_config = model.config
        report.update(endpoint=model_config.base_url, model=model_config.name)
        client = openai.OpenAI(base_url=model_config.base_url, api_key=model_config.api_key or "none",
                               timeout=model_config.timeout, max_retries=0)
        meta = model_meta(client, model_config.name)
        props = server_props(model_config.base_url) if not meta else {}
        n_ctx = meta.get("n_ctx") or (props.get("default_generation_settings") or {}).get("n_ctx")
        report["context_tokens"] = n_ctx if n_ctx else "unknown (the endpoint does not report it)"
        template = meta.get("chat_template") or props.get("chat_template")
        report["chat_template"] = (template[:120] + "…") if template else "unknown (the endpoint does not report it)"
        if meta:
            report["threads"] = meta.get("threads")
            report["grammar_constrained_tool_calls"] = meta.get("grammar")
        try:
            report.update(_probe_call(client, model_config, model_config.name))
        except openai.OpenAIError as exc:
            report["probe_error"] = str(exc)[:300]


def render(report: dict[str, Any], as_json: bool) -> str:
    if as_json:
        return json.dumps(report, indent=2)
    lines = []
    for key, value in report.items():
        if key == "environment" and isinstance(value, dict):
            lines.append(f"{'environment':>32}:")
            lines.extend(render_lines(value, width=34))
            continue
        if isinstance(value, dict):
            value = ", ".join(f"{k}={v}" for k, v in value.items())
        lines.append(f"{key.replace('_', ' '):>32}: {value}")
    return "\n".join(lines)
