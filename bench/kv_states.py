"""Benchmark saved KV states (model.kv_states_mb) on the guided strategy's real request sequences: the wall time and
the prefilled tokens of replaying them with saved states against the live cache alone, same model, same run.

    python bench/kv_states.py TRAJECTORY.jsonl [...] [--local-model NAME | --model PATH] [--max-tokens 200]

Each TRAJECTORY is a guided run's trajectory (`coder eval --out DIR` writes them under DIR/trajectories/): its
requests are sent again in order, greedy, to one runtime with saved states and one without; the two settings
alternate per trajectory (which goes first alternates too), so load on this shared machine hits both alike. Greedy
replies are compared between the settings. A restored state holds the KV cells of the same tokens, but the prefill
was split at other points (as it is with the live cache alone, after a different previous request), so float
rounding may differ and flip a greedy choice late in a reply.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

from coder.models.base import Message  # noqa: E402
from coder.models.config import ModelConfig  # noqa: E402
from coder.models.openai_compat import OpenAICompatModel  # noqa: E402
from coder.runtime.launch import choose_model  # noqa: E402
from coder.runtime.process import LocalRuntime  # noqa: E402


def requests(path: Path) -> list[list[Message]]:
    """The chat messages of every model request in a trajectory, in order."""
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        if record.get("kind") == "request":
            out.append([Message(m["role"], str(m.get("content") or "")) for m in record["messages"]])
    return out


def replay(model_path: Path, threads: int, states_mb: int, sequence: list[list[Message]],
           max_tokens: int) -> dict[str, Any]:
    """Send SEQUENCE to a fresh runtime; wall seconds, prompt and cached tokens, and the replies."""
    with LocalRuntime(model_path, "bench", 8192, threads, kv_states_mb=states_mb) as info:
        model = OpenAICompatModel(ModelConfig(provider="openai_compat", base_url=info.url, name=info.name,
                                              max_retries=0, timeout=600, max_tokens=max_tokens))
        began, prompt, cached, texts = time.perf_counter(), 0, 0, []
        for messages in sequence:
            reply = model.complete(messages, [], sampling={"temperature": 0.0, "stop": ["```\n\n"]})
            prompt, cached = prompt + reply.usage.prompt_tokens, cached + reply.usage.cached_tokens
            texts.append(reply.text)
        return {"seconds": time.perf_counter() - began, "prompt": prompt, "cached": cached, "texts": texts}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("trajectories", type=Path, nargs="+")
    parser.add_argument("--local-model", default="qwen2.5-coder-1.5b")
    parser.add_argument("--model", type=Path, default=None, help="a GGUF file instead of a registry model")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--states-mb", type=int, default=512)
    parser.add_argument("--max-tokens", type=int, default=200)
    args = parser.parse_args()
    model_path = args.model or choose_model(ModelConfig(local_model=args.local_model), print).path
    totals: dict[str, list[float]] = {"on": [0.0, 0, 0], "off": [0.0, 0, 0]}
    same = calls = 0
    print("| trajectory | requests | with states s | live cache only s | ratio | prefilled with | prefilled without |")
    print("|---|---|---|---|---|---|---|")
    for index, path in enumerate(args.trajectories):
        sequence = requests(path)
        order = ("on", "off") if index % 2 == 0 else ("off", "on")
        runs: dict[str, dict[str, Any]] = {kind: replay(model_path, args.threads, args.states_mb if kind == "on" else 0, sequence,
                             args.max_tokens) for kind in order}
        for kind, run in runs.items():
            totals[kind][0] += run["seconds"]
            totals[kind][1] += run["prompt"] - run["cached"]
            totals[kind][2] += run["prompt"]
        same += sum(a == b for a, b in zip(runs["on"]["texts"], runs["off"]["texts"]))
        calls += len(sequence)
        on, off = runs["on"], runs["off"]
        print(f"| {path.name} | {len(sequence)} | {on['seconds']:.1f} | {off['seconds']:.1f} | "
              f"{on['seconds'] / off['seconds']:.2f} | {on['prompt'] - on['cached']} | {off['prompt'] - off['cached']} |",
              flush=True)
    with_states, live = totals["on"], totals["off"]
    print(f"| all | {calls} | {with_states[0]:.1f} | {live[0]:.1f} | {with_states[0] / live[0]:.2f} | "
          f"{with_states[1]:.0f} of {with_states[2]:.0f} | {live[1]:.0f} of {live[2]:.0f} |")
    print(f"\ngreedy replies identical in both settings: {same} of {calls}")


if __name__ == "__main__":
    main()
