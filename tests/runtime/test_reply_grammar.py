"""The repair-reply grammar: a random-weight model under it always ends in one closed code block after short prose."""

from __future__ import annotations

import re
from typing import Any

import pytest

from coder.runtime.chat_template import render_chat
from coder.runtime.reply_grammar import fenced_code_grammar
from coder_tools.rewrite import code_from_reply, fenced_code

pytest.importorskip("llama_cpp", reason="needs llama-cpp-python")

from coder.runtime.grammar import GrammarLogitsProcessor  # noqa: E402

MESSAGES = [{"role": "system", "content": "You fix bugs. Say what is wrong, then give the corrected function."},
            {"role": "user", "content": "def add(a, b):\n    return a - b\n\nadd(2, 3) returns -1."}]


def _generate(llm: Any, seed: int, grammar: str | None, max_tokens: int = 300) -> tuple[str, str]:
    from llama_cpp import LogitsProcessorList

    prompt = llm.tokenize(render_chat(str(llm.metadata["tokenizer.chat_template"]), MESSAGES, None).encode(),
                          add_bos=False, special=True)
    processors = LogitsProcessorList([GrammarLogitsProcessor(llm, grammar)]) if grammar else None
    out = llm.create_completion(prompt, max_tokens=max_tokens, temperature=1.0, seed=seed,
                                logits_processor=processors)
    return out["choices"][0]["text"], out["choices"][0]["finish_reason"]


def test_the_grammars_compile_in_llama_cpp(tiny_llama: Any) -> None:
    for grammar in (fenced_code_grammar(), fenced_code_grammar(0), fenced_code_grammar(40, 3, 30)):
        GrammarLogitsProcessor(tiny_llama, grammar)
    with pytest.raises(ValueError):
        fenced_code_grammar(-1)


def test_a_random_model_under_the_grammar_always_writes_one_closed_block(tiny_llama: Any) -> None:
    grammar = fenced_code_grammar(max_prose_chars=40, max_code_lines=3, max_line_chars=30)
    for seed in range(8):
        text, finish = _generate(tiny_llama, seed, grammar)
        assert finish == "stop" and text.endswith("```"), text
        prose, _, rest = text.partition("```")
        assert len(prose) <= 41 and (not prose or prose.endswith("\n")), text
        blocks = fenced_code(text)
        assert len(blocks) == 1 and rest.count("\n```") == 1, text  # one block, closed at a line start
        code = blocks[0][1]
        assert len(code.splitlines()) <= 3 and not any(re.match(r"`{3}", line) for line in code.splitlines()), text
        assert code_from_reply(text, "python") == code


def test_a_random_model_without_it_writes_no_block(tiny_llama: Any) -> None:
    for seed in range(3):
        text, _ = _generate(tiny_llama, seed, None, max_tokens=80)
        assert not fenced_code(text), text
