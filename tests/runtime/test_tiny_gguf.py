"""The tiny random-weight test model: small, loads in llama.cpp, tokenizes like the real model, generates fast."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from tiny_gguf import read_header

from coder.runtime.chat_template import render_chat
from coder_tools.registry import tool_schemas

TEXTS = [
    "def add(a, b):\n    return a - b  # TODO: fix\n",
    '<tool_call>\n{"name": "grep", "arguments": {"pattern": "def \\\\w+", "include": "*.py"}}\n</tool_call>',
    "<|im_start|>user\nFix the failing test.<|im_end|>\n<|im_start|>assistant\n",
    "  \t\n\nnaïve café — 你好, мир! 🐍 x<=3 && y>=4 ;; 0x1F 1e-5",
    "</tool_call><|endoftext|><|fim_prefix|>",
]


def test_tiny_model_is_small_and_mirrors_the_real_one(real_gguf: Path, tiny_gguf: Path) -> None:
    assert tiny_gguf.stat().st_size < 40_000_000
    real, tiny = read_header(real_gguf), read_header(tiny_gguf)
    assert {k: v for k, v in tiny.fields.items() if k.startswith("tokenizer.")} == \
        {k: v for k, v in real.fields.items() if k.startswith("tokenizer.")}
    assert tiny.fields["general.architecture"][2] == "qwen2"
    assert tiny.fields["qwen2.block_count"][2] == 2
    per_block = {n.split(".", 2)[2] for n in real.tensors if n.startswith("blk.0.")}
    assert set(tiny.tensors) == ({n for n in real.tensors if not n.startswith("blk.")} - {"output.weight"}) | {
        f"blk.{i}.{n}" for i in range(2) for n in per_block}
    assert tiny.tensors["token_embd.weight"] == (64, real.tensors["token_embd.weight"][1])


@pytest.fixture(scope="module")
def real_vocab(real_gguf: Path) -> Any:
    llama_cpp = pytest.importorskip("llama_cpp", reason="needs llama-cpp-python")
    return llama_cpp.Llama(model_path=str(real_gguf), vocab_only=True, verbose=False)


@pytest.mark.parametrize("special", [True, False])
def test_tokenizes_and_detokenizes_like_the_real_model(tiny_llama: Any, real_vocab: Any, special: bool) -> None:
    for text in TEXTS:
        ids = tiny_llama.tokenize(text.encode(), add_bos=False, special=special)
        assert ids == real_vocab.tokenize(text.encode(), add_bos=False, special=special)
        assert tiny_llama.detokenize(ids, special=True) == real_vocab.detokenize(ids, special=True) == text.encode()
    tool_call = tiny_llama.tokenize(b"<tool_call>", add_bos=False, special=True)
    assert len(tool_call) == 1 and tool_call == real_vocab.tokenize(b"<tool_call>", add_bos=False, special=True)
    assert (tiny_llama.token_eos(), tiny_llama.token_bos()) == (real_vocab.token_eos(), real_vocab.token_bos())


def test_applies_the_real_chat_template_with_tools(tiny_llama: Any, real_vocab: Any) -> None:
    template = str(tiny_llama.metadata["tokenizer.chat_template"])
    assert template == str(real_vocab.metadata["tokenizer.chat_template"])
    messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Fix it."}]
    prompt = render_chat(template, messages, tool_schemas())
    assert "<tools>" in prompt and '"name": "edit_file"' in prompt and prompt.endswith("<|im_start|>assistant\n")
    ids = tiny_llama.tokenize(prompt.encode(), add_bos=False, special=True)
    assert ids == real_vocab.tokenize(prompt.encode(), add_bos=False, special=True)
    assert ids.count(tiny_llama.tokenize(b"<|im_start|>", add_bos=False, special=True)[0]) == 3


def test_generates_garbage_fast(tiny_llama: Any) -> None:
    prompt = tiny_llama.tokenize(TEXTS[2].encode(), add_bos=False, special=True)
    tiny_llama.create_completion(prompt, max_tokens=1)  # prefill outside the timing
    import llama_cpp

    vocab = llama_cpp.llama_model_get_vocab(tiny_llama.model)
    eog = {t: float("-inf") for t in range(tiny_llama.n_vocab()) if llama_cpp.llama_vocab_is_eog(vocab, t)}
    began = time.perf_counter()
    out = tiny_llama.create_completion(prompt, max_tokens=200, temperature=1.0, seed=1, logit_bias=eog)
    rate = out["usage"]["completion_tokens"] / (time.perf_counter() - began)
    assert out["usage"]["completion_tokens"] == 200 and out["choices"][0]["text"].strip()
    assert rate > 40, f"{rate:.0f} tokens/s"  # ~84/s on an AVX2-only 2-core CPU, ~150/s with AVX-512
