"""Model configuration: endpoint, model name, and Qwen's recommended sampling presets."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = ["ModelConfig", "PRESETS", "Preset"]

Preset = Literal["qwen2.5-coder", "qwen3-coder", "none"]

# Sampling recommended by Qwen (checked with the search tool):
# - Qwen2.5-Coder-*-Instruct: generation_config.json of Qwen/Qwen2.5-Coder-32B-Instruct
#   {"temperature": 0.7, "top_p": 0.8, "top_k": 20, "repetition_penalty": 1.05} (seen via a verbatim copy at
#   huggingface.co/ai-team-20/qwen3-coder-480b-3, commit 1f0ca89, "Add generation_config.json from Qwen/...").
# - Qwen3-Coder: model card "Best Practices": temperature=0.7, top_p=0.8, top_k=20, repetition_penalty=1.05
#   (https://huggingface.co/Qwen/Qwen3-Coder-30B-A3B-Instruct; echoed by LM Studio's recommended preset).
PRESETS: dict[str, dict[str, float | int]] = {
    "qwen2.5-coder": {"temperature": 0.7, "top_p": 0.8, "top_k": 20, "repetition_penalty": 1.05},
    "qwen3-coder": {"temperature": 0.7, "top_p": 0.8, "top_k": 20, "repetition_penalty": 1.05},
    "none": {},
}
LOCAL_TIMEOUT = 300.0  # seconds per request on the bundled runtime (see ModelConfig._local_runtime_waits_longer)


class ModelConfig(BaseModel):
    """Which model to talk to and how to sample from it (None overrides mean: use the preset's value)."""

    model_config = ConfigDict(extra="forbid")

    provider: Literal["openai_compat", "local"] = "local"
    base_url: str = "http://127.0.0.1:8080/v1"
    api_key: str | None = None
    name: str = "qwen2.5-coder"
    preset: Preset = "qwen2.5-coder"
    temperature: float | None = Field(default=None, ge=0)
    top_p: float | None = Field(default=None, gt=0, le=1)
    top_k: int | None = Field(default=None, ge=0)
    repetition_penalty: float | None = Field(default=None, gt=0)
    max_tokens: int | None = Field(default=None, gt=0)
    native_tools: bool = True
    timeout: float = Field(default=120.0, gt=0, description="Seconds per request; unset: 120, or 300 on the bundled runtime.")
    max_retries: int = Field(default=2, ge=0, description="Retries per request; unset: 2, or 0 on the bundled runtime.")
    # The bundled runtime (provider = "local"):
    local_model: str | None = Field(default=None, description="Registry name (`coder models list`); None: picked by memory.")
    path: str | None = Field(default=None, description="A GGUF file to serve instead of a registry model.")
    context: int | None = Field(default=None, ge=512, description="Context size in tokens; None: the model's, at most 32768.")
    threads: int | None = Field(default=None, ge=1, description="CPU threads; None: the physical cores.")
    grammar: bool = Field(default=True, description="Constrain tool calls with a grammar built from the tool schemas.")
    prompt_lookup: int = Field(default=0, ge=0, le=64, description=(
        "Draft tokens per step for prompt-lookup (speculative) decoding; 0: off. On 2 CPU cores it made decoding "
        "2-4x slower (bench/prompt_lookup.py), so it is off unless a machine measures a gain."))
    kv_states_mb: int = Field(default=512, ge=0, le=8192, description=(
        "Memory (MiB) for the KV states of earlier prompts: a prompt resumes from the one it shares the longest "
        "prefix with, not only from the last one (guided repair's views and feedback rounds); 0: off."))

    @model_validator(mode="before")
    @classmethod
    def _base_url_means_remote(cls, data: Any) -> Any:
        """Setting base_url without a provider means an OpenAI-compatible endpoint, not the bundled runtime."""
        if isinstance(data, dict) and "base_url" in data and "provider" not in data:
            return {**data, "provider": "openai_compat"}
        return data

    @model_validator(mode="after")
    def _local_runtime_waits_longer(self) -> ModelConfig:
        """The bundled runtime on a CPU is slow, not flaky: a full 2048-token reply of the 1.5B model on 2 cores takes
        about two minutes, so 120 s timed out replies that were nearly done, and each retry (the same prompt on the
        same server) cost the same again. Unless set, it gets a longer timeout and no retries."""
        if self.provider == "local":
            if "timeout" not in self.model_fields_set:
                self.timeout = LOCAL_TIMEOUT
            if "max_retries" not in self.model_fields_set:
                self.max_retries = 0
        return self

    def sampling(self) -> dict[str, Any]:
        """Effective sampling parameters: the preset, with any explicit overrides applied."""
        values: dict[str, Any] = dict(PRESETS[self.preset])
        for key in ("temperature", "top_p", "top_k", "repetition_penalty", "max_tokens"):
            override = getattr(self, key)
            if override is not None:
                values[key] = override
        return values
