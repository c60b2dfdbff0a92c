"""Benchmark coder's bundled runtime against raw llama-cpp-python, and prefix reuse over a 10-turn conversation.

    python bench/local_runtime.py [--model PATH | --local-model NAME] [--threads N] [--reps 3] [--turns 10]

1. Prefill and decode tokens/s through coder's runtime (HTTP, chat template, usage accounting) against raw
   llama-cpp-python on the same model, threads and prompt in the same run (target: at least 0.9x).
2. Per-turn latency of a scripted agent conversation (tool calls and observations appended each turn) with and without
   reuse of the common prefix's KV cache (target: cache hit rate at least 90% from turn 2).
Runs alternate and medians are reported, because this machine is shared and noisy.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

from coder.runtime.chat_template import render_chat  # noqa: E402
from coder.runtime.hardware import physical_cores  # noqa: E402
from coder.runtime.process import LocalRuntime  # noqa: E402

SYSTEM = "You are coder, an autonomous software engineer fixing an issue in a code repository. " * 12
LONG_TASK = "Explain, step by step and in detail, how Python's list sort works, with many code examples. " * 24
DECODE_TASK = "Write a long Python module implementing a text adventure game with many rooms and items."


def post(url: str, body: dict[str, Any]) -> tuple[dict[str, Any], float]:
    request = urllib.request.Request(url + "/chat/completions", data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
    began = time.perf_counter()
    with urllib.request.urlopen(request, timeout=900) as response:
        payload = json.loads(response.read())
    return payload, time.perf_counter() - began


def raw_measure(llm: Any, template: str, messages: list[dict[str, Any]], max_tokens: int) -> tuple[int, float, int, float]:
    """(prompt tokens, prefill seconds, completion tokens, decode seconds) with raw llama-cpp-python, cache cleared."""
    tokens = llm.tokenize(render_chat(template, messages, None).encode(), add_bos=False, special=True)
    llm.reset()
    began = time.perf_counter()
    first = None
    count = 0
    for chunk in llm.create_completion(tokens, max_tokens=max_tokens, stream=True, temperature=0.7, top_p=0.8,
                                       top_k=20, repeat_penalty=1.05, seed=1):
        if first is None:
            first = time.perf_counter()
        if chunk["choices"][0].get("text") or not chunk["choices"][0].get("finish_reason"):
            count += 1
    end = time.perf_counter()
    return len(tokens), (first or end) - began, count, end - (first or end)


def runtime_measure(url: str, messages: list[dict[str, Any]], max_tokens: int) -> tuple[int, float, int, float]:
    body = {"messages": messages, "max_tokens": max_tokens, "temperature": 0.7, "top_p": 0.8, "top_k": 20,
            "repetition_penalty": 1.05, "seed": 1}
    payload, wall = post(url, body)
    t = payload["timings"]
    # The runtime reports its own prefill/decode split; the HTTP and template overhead is charged to prefill.
    overhead = wall - (t["prompt_ms"] + t["predicted_ms"]) / 1000
    return payload["usage"]["prompt_tokens"], t["prompt_ms"] / 1000 + overhead, t["predicted_n"], t["predicted_ms"] / 1000


def speeds(args: argparse.Namespace, model: Path, threads: int) -> None:
    from llama_cpp import Llama

    prefill_msgs = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": LONG_TASK}]
    decode_msgs = [{"role": "user", "content": DECODE_TASK}]
    raw_pf, raw_dc, rt_pf, rt_dc = [], [], [], []
    with LocalRuntime(model, "bench", args.n_ctx, threads, prefix_cache=False) as info:
        llm = Llama(model_path=str(model), n_ctx=args.n_ctx, n_threads=threads, n_threads_batch=threads, n_batch=512,
                    verbose=False)
        template = str(llm.metadata.get("tokenizer.chat_template", ""))
        for rep in range(args.reps):
            n, pf, _, _ = raw_measure(llm, template, prefill_msgs, 1)
            raw_pf.append(n / pf)
            n, pf, _, _ = runtime_measure(info.url, prefill_msgs, 1)
            rt_pf.append(n / pf)
            _, _, c, dc = raw_measure(llm, template, decode_msgs, args.decode)
            raw_dc.append(c / dc)
            _, _, c, dc = runtime_measure(info.url, decode_msgs, args.decode)
            rt_dc.append(c / dc)
            print(f"  rep {rep + 1}: prefill raw {raw_pf[-1]:.1f} vs coder {rt_pf[-1]:.1f} tok/s; "
                  f"decode raw {raw_dc[-1]:.1f} vs coder {rt_dc[-1]:.1f} tok/s", flush=True)
        del llm
    print(f"\n{'':26}{'raw llama-cpp-python':>22}{'coder runtime':>16}{'ratio':>8}")
    for label, raw, ours in (("prefill tok/s (median)", raw_pf, rt_pf), ("decode tok/s (median)", raw_dc, rt_dc)):
        r, o = statistics.median(raw), statistics.median(ours)
        print(f"{label:26}{r:>22.1f}{o:>16.1f}{o / r:>7.2f}x  {'PASS' if o / r >= 0.9 else 'FAIL'} (target >= 0.9x)")


def scripted_turns(turns: int) -> list[list[dict[str, Any]]]:
    """The message list sent at each turn of a scripted agent run: each turn adds one call and one observation."""
    messages: list[dict[str, Any]] = [{"role": "system", "content": SYSTEM},
                                      {"role": "user", "content": "Fix the failing test in tests/test_calc.py."}]
    requests = [list(messages)]
    for turn in range(1, turns):
        call = {"id": f"call_{turn}", "type": "function",
                "function": {"name": "view_file", "arguments": json.dumps({"path": f"src/module_{turn}.py"})}}
        messages.append({"role": "assistant", "content": "", "tool_calls": [call]})
        body = "\n".join(f"{i:>4}\tdef function_{turn}_{i}(value):  return value * {i}" for i in range(1, 13))
        messages.append({"role": "tool", "tool_call_id": f"call_{turn}", "content": body})
        requests.append(list(messages))
    return requests


def conversation(args: argparse.Namespace, model: Path, threads: int) -> None:
    from coder_tools.registry import tool_schemas

    tools = tool_schemas()  # the agent's real tools: their schemas are part of every prompt, as in a real run
    requests = scripted_turns(args.turns)
    results: dict[bool, list[tuple[float, int, int]]] = {}
    for reuse in (True, False):
        with LocalRuntime(model, "bench", args.n_ctx, threads, prefix_cache=reuse) as info:
            rows = []
            for messages in requests:
                payload, wall = post(info.url, {"messages": messages, "tools": tools, "max_tokens": 8,
                                                "temperature": 0.0, "seed": 1})
                usage = payload["usage"]
                rows.append((wall, usage["prompt_tokens"], usage["prompt_tokens_details"]["cached_tokens"]))
            results[reuse] = rows
    print(f"\n{'turn':>4}{'prompt tok':>12}{'cached':>8}{'hit':>7}{'with reuse s':>14}{'without s':>11}{'speed-up':>10}")
    hits = []
    for turn, ((w_on, prompt, cached), (w_off, _, _)) in enumerate(zip(results[True], results[False]), 1):
        hit = cached / prompt if prompt else 0.0
        if turn >= 2:
            hits.append(hit)
        print(f"{turn:>4}{prompt:>12}{cached:>8}{hit:>7.1%}{w_on:>14.2f}{w_off:>11.2f}{w_off / w_on:>9.1f}x")
    total_on = sum(r[0] for r in results[True])
    total_off = sum(r[0] for r in results[False])
    print(f"total: {total_on:.1f}s with reuse vs {total_off:.1f}s without ({total_off / total_on:.1f}x); "
          f"cache hit from turn 2: min {min(hits):.1%}, mean {statistics.mean(hits):.1%} "
          f"{'PASS' if min(hits) >= 0.9 else 'FAIL'} (target >= 90%)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, help="GGUF file (default: the registry's --local-model)")
    parser.add_argument("--local-model", default="qwen2.5-coder-0.5b")
    parser.add_argument("--threads", type=int, default=physical_cores())
    parser.add_argument("--n-ctx", type=int, default=8192)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--decode", type=int, default=128)
    parser.add_argument("--turns", type=int, default=10)
    parser.add_argument("--skip-speeds", action="store_true")
    args = parser.parse_args()
    model = args.model
    if model is None:
        from coder.runtime.fetch import pull

        model = pull(args.local_model)
    print(f"model {model.name}, {args.threads} threads, context {args.n_ctx}")
    if not args.skip_speeds:
        speeds(args, model, args.threads)
    conversation(args, model, args.threads)


if __name__ == "__main__":
    main()
