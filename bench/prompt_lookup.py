"""Benchmark prompt-lookup (speculative) decoding on the guided strategy's repair prompts: decode tokens/s with it
against without, on the same model, threads and prompts in the same run.

    python bench/prompt_lookup.py [--model PATH | --local-model NAME] [--draft 4 10] [--reps 2] [--max-tokens 300]

A repair reply is one sentence of diagnosis and then the corrected function, which mostly copies the function from the
prompt: the case prompt-lookup decoding is made for (draft tokens are copied from where the last tokens occurred
earlier in the prompt and checked in one batch). The baseline is the runtime as it ships (no draft model); each
setting runs every prompt, settings alternate within each repetition, and the prefill is done before timing starts,
so the figure is decoding alone. Greedy decoding: the text should match the baseline's; mismatches are counted
(batched evaluation may round differently).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

from coder.config import Config  # noqa: E402
from coder.prompts import render  # noqa: E402
from coder.runtime.chat_template import render_chat  # noqa: E402
from coder.runtime.hardware import physical_cores  # noqa: E402
from coder.runtime.server import load_llama  # noqa: E402

CASES: list[dict[str, Any]] = [
    {"issue": "The CSV export drops the last row of every report.", "language": "python", "path": "report/export.py",
     "test": "def test_all_rows_written(tmp_path):\n    rows = [[1, 'a'], [2, 'b'], [3, 'c']]\n"
             "    write_rows(tmp_path / 'r.csv', ['id', 'name'], rows)\n"
             "    assert (tmp_path / 'r.csv').read_text().count('\\n') == 4",
     "failure": "assert 3 == 4",
     "function": "def write_rows(path, header, rows):\n    \"\"\"Write HEADER and ROWS to PATH as CSV.\"\"\"\n"
                 "    with open(path, 'w', newline='') as handle:\n        out = csv.writer(handle)\n"
                 "        out.writerow(header)\n        for index in range(len(rows) - 1):\n"
                 "            row = rows[index]\n            out.writerow([str(cell) for cell in row])\n"
                 "    return len(rows)"},
    {"issue": "Preview cuts multi-byte characters in half.", "language": "go", "path": "text/preview.go",
     "test": "func TestPreviewUTF8(t *testing.T) {\n\tif got := Preview(\"héllo wörld\", 7); got != \"héllo w…\" {\n"
             "\t\tt.Fatalf(\"got %q\", got)\n\t}\n}",
     "failure": "preview_test.go:8: got \"h\\xc3\\xa9llo \\xe2…\"",
     "function": "func Preview(s string, n int) string {\n\tif len(s) <= n {\n\t\treturn s\n\t}\n"
                 "\tcut := s[:n]\n\tfor strings.HasSuffix(cut, \" \") {\n\t\tcut = strings.TrimSuffix(cut, \" \")\n\t}\n"
                 "\treturn cut + \"…\"\n}"},
    {"issue": "Retries wait the same delay every time instead of backing off.", "language": "javascript",
     "path": "src/retry.js",
     "test": "test('backs off', () => {\n  assert.deepStrictEqual(delays(3, 100), [100, 200, 400]);\n});",
     "failure": "AssertionError: [100, 100, 100] deepStrictEqual [100, 200, 400]",
     "function": "function delays(attempts, base) {\n  const out = [];\n  let wait = base;\n"
                 "  for (let i = 0; i < attempts; i++) {\n    out.push(wait);\n    wait = base;\n  }\n  return out;\n}"},
]


def prompts(template: str) -> list[list[dict[str, str]]]:
    """The guided strategy's real repair prompt (prompts/repair.j2) for each case, as chat messages."""
    out = []
    for case in CASES:
        context = {"issue": case["issue"], "failure": case["failure"],
                   "tests": [{"path": "tests/" + Path(case["path"]).name, "language": case["language"],
                              "text": case["test"]}],
                   "functions": [{"path": case["path"], "language": case["language"], "text": case["function"]}]}
        out.append([{"role": "system", "content": render(template, part="system", **context)},
                    {"role": "user", "content": render(template, part="user", **context)}])
    return out


def decode(llm: Any, tokens: list[int], max_tokens: int) -> tuple[str, int, float]:
    """(text, tokens after the first, seconds from the first token to the end): greedy, prefill excluded."""
    llm.reset()
    llm.eval(tokens[:-1])
    text, count, first = "", 0, None
    for chunk in llm.create_completion(prompt=tokens, max_tokens=max_tokens, stream=True, temperature=0.0, seed=1):
        first = first or time.perf_counter()
        count += 1
        text += chunk["choices"][0]["text"]
    return text, count - 1, time.perf_counter() - (first or time.perf_counter())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, help="GGUF file (default: the registry's --local-model)")
    parser.add_argument("--local-model", default="qwen2.5-coder-1.5b")
    parser.add_argument("--threads", type=int, default=physical_cores())
    parser.add_argument("--n-ctx", type=int, default=4096)
    parser.add_argument("--draft", type=int, nargs="+", default=[4, 10], help="draft tokens per step to try")
    parser.add_argument("--reps", type=int, default=2)
    parser.add_argument("--max-tokens", type=int, default=300)
    args = parser.parse_args()
    model = args.model
    if model is None:
        from coder.runtime.fetch import pull

        model = pull(args.local_model)
    from llama_cpp.llama_speculative import LlamaPromptLookupDecoding

    plain = load_llama(model, args.n_ctx, args.threads)
    speculative = load_llama(model, args.n_ctx, args.threads, prompt_lookup=max(args.draft))
    template = str(plain.metadata["tokenizer.chat_template"])
    token_lists = [plain.tokenize(render_chat(template, messages, None).encode(), add_bos=False, special=True)
                   for messages in prompts(Config().prompts.repair)]
    print(f"model {model.name}, {args.threads} threads, {len(token_lists)} repair prompts of "
          f"{min(map(len, token_lists))}-{max(map(len, token_lists))} tokens, greedy, {args.reps} rep(s)")
    settings = [0, *args.draft]
    totals = {k: [0, 0.0] for k in settings}
    mismatches = dict.fromkeys(args.draft, 0)
    for _ in range(args.reps):
        for tokens in token_lists:
            baseline_text = ""
            for k in settings:
                llm = plain if k == 0 else speculative
                if k:
                    speculative.draft_model = LlamaPromptLookupDecoding(num_pred_tokens=k)
                text, count, seconds = decode(llm, tokens, args.max_tokens)
                totals[k][0] += count
                totals[k][1] += seconds
                if k == 0:
                    baseline_text = text
                elif text != baseline_text:
                    mismatches[k] += 1
    base = totals[0][0] / totals[0][1]
    print(f"{'setting':<28}{'decode tok/s':>14}{'ratio':>8}  greedy text differs")
    print(f"{'no draft (as shipped)':<28}{base:>14.1f}{1.0:>8.2f}")
    for k in args.draft:
        rate = totals[k][0] / totals[k][1]
        print(f"{f'prompt lookup, {k} tokens':<28}{rate:>14.1f}{rate / base:>8.2f}  "
              f"{mismatches[k]} of {args.reps * len(token_lists)}")


if __name__ == "__main__":
    main()
