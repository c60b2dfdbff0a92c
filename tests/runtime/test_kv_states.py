"""Saved KV states on the real runtime (tiny random-weight GGUF): a prompt resumes from the earlier prompt it shares
the longest prefix with, and what it generates is exactly what a full prefill generates."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path
from typing import Any

from coder.models.base import Message
from coder.models.config import ModelConfig
from coder.models.openai_compat import OpenAICompatModel
from coder.runtime.kv_states import KVStates, common_prefix
from coder.runtime.launch import runtime_for
from coder.runtime.process import LocalRuntime, RuntimeInfo

HEAD = "You fix bugs. Issue: totals are off by a cent when VAT is rounded. " * 12
VIEWS = [f"The code:\n```python\ndef f{i}(a, b):\n    return a - b + {i} * 3\n```\n" * 6 for i in range(3)]
FEEDBACK = "An earlier attempt still fails with: assert 1 == 5. Say what is still wrong."


def _model(info: RuntimeInfo) -> OpenAICompatModel:
    return OpenAICompatModel(ModelConfig(provider="openai_compat", base_url=info.url, name=info.name, max_retries=0,
                                         max_tokens=12, temperature=0.0))


def _meta(info: RuntimeInfo) -> dict[str, Any]:
    with urllib.request.urlopen(info.url + "/models", timeout=10) as response:
        return dict(json.loads(response.read())["data"][0]["meta"])


def _rounds(info: RuntimeInfo) -> list[tuple[str, int, int]]:
    """Each view once, then each view again with feedback after it (a guided repair's two rounds), with a short
    unrelated request in between: a saved state is then longer than what the live cache holds."""
    model, out = _model(info), []
    for feedback in ("", FEEDBACK):
        if feedback:
            model.complete([Message("user", "hi")], [], sampling={"temperature": 0.0})
        for view in VIEWS:
            messages = [Message("system", "Be brief."), Message("user", HEAD + view)]
            if feedback:
                messages.append(Message("user", feedback))
            reply = model.complete(messages, [], sampling={"temperature": 0.0})
            out.append((reply.text, reply.usage.prompt_tokens, reply.usage.cached_tokens))
    return out


def test_a_feedback_prompt_resumes_from_its_view_and_generates_the_same(tiny_gguf: Path) -> None:
    with LocalRuntime(tiny_gguf, "tiny", 4096, 1, kv_states_mb=64) as info:
        kept = _rounds(info)
        meta = _meta(info)["kv_states"]
    with LocalRuntime(tiny_gguf, "tiny", 4096, 1, kv_states_mb=0) as info:
        live_only = _rounds(info)
        assert _meta(info)["kv_states"]["budget_mb"] == 0
    assert [t for t, _, _ in kept] == [t for t, _, _ in live_only]  # restored cells give the same greedy text
    assert meta["restored"] == 3 and meta["held"] >= 3
    for (_, prompt, cached), (_, _, cached_live) in zip(kept[3:], live_only[3:]):
        # The feedback prompt shares its view with a saved state: only the feedback is prefilled.
        assert cached > cached_live + 100 and prompt - cached < 60, (prompt, cached, cached_live)


def test_the_config_sets_the_budget() -> None:
    assert ModelConfig().kv_states_mb == 512
    assert ModelConfig(kv_states_mb=0).kv_states_mb == 0


def test_runtime_for_passes_the_budget(tiny_gguf: Path) -> None:
    runtime, _ = runtime_for(ModelConfig(path=str(tiny_gguf), kv_states_mb=32))
    assert runtime.kv_states_mb == 32


def test_best_state_needs_a_real_gain_and_takes_the_longest() -> None:
    states = KVStates(budget=1 << 20)
    states._states[(1, 2, 3)] = b"x"
    states._states[tuple(range(1, 40))] = b"y"
    prompt = [*range(1, 30), 99, 100]
    assert states.best(prompt, live=2) == (tuple(range(1, 40)), 29)
    assert states.best(prompt, live=20) is None  # 9 more tokens are not worth a restore
    assert common_prefix([1, 2, 3], [1, 2, 4]) == 2
