"""Tool-call grammars: schema coverage, integer ranges, and a random-weight model that can only emit valid calls."""

from __future__ import annotations

import random
import re
from typing import Any

import pytest
from pydantic import ValidationError

from coder.models.toolcall_parser import parse_tool_calls
from coder.runtime.chat_template import render_chat
from coder_tools.registry import all_tools, tool_schemas

pytest.importorskip("llama_cpp", reason="the grammar builder uses llama-cpp-python's JSON-schema converter")

from coder.runtime.grammar import (  # noqa: E402
    GrammarError,
    GrammarLogitsProcessor,
    _edit_file_variants,
    _integer_range,
    arguments_grammar,
    tool_call_grammar,
)

# Caps so that a model with random weights reaches the end of the call within max_tokens.
SMALL: dict[str, Any] = {"max_text_chars": 120, "max_string_chars": 24, "max_array_items": 3}
MESSAGES = [{"role": "system", "content": "You are a coding agent. Use the tools to fix the bug."},
            {"role": "user", "content": "tests/test_calc.py::test_add fails: add(2, 3) returns -1. Fix it."}]


def _gbnf_to_regex(rule: str) -> str:
    """A GBNF rule body of literals, classes, groups, | and {m,n} (no rule references) as a Python regex."""
    return re.sub(r'"([^"]*)"|(\[[^\]]*\])|\s+', lambda m: re.escape(m[1]) if m[1] is not None else m[2] or "", rule)


@pytest.mark.parametrize("low, high", [(1, None), (0, None), (-1, None), (None, None), (3, 17), (-20, -3),
                                       (-5, 120), (100, 999), (37, None), (0, 0), (12, 12345), (None, -10),
                                       (None, 42), (-1234, None), (199, 201)])
def test_integer_ranges_match_exactly_the_integers_in_range(low: int | None, high: int | None) -> None:
    pattern = re.compile(_gbnf_to_regex(_integer_range(low, high) or ""))
    rng = random.Random(0)
    for n in [*range(-2100, 2100), *(rng.randint(-10**16, 10**16) for _ in range(300))]:
        inside = (low is None or n >= low) and (high is None or n <= high) and len(str(abs(n))) <= 15
        assert bool(pattern.fullmatch(str(n))) == inside, n
    for text in ("01", "-0", "00", "+1", "", "1.0"):
        assert not pattern.fullmatch(text), text


def test_empty_integer_range() -> None:
    assert _integer_range(5, 4) is None
    with pytest.raises(ValueError, match="admits no value"):
        arguments_grammar({"type": "integer", "minimum": 5, "maximum": 4})


def _rules(grammar: str) -> dict[str, str]:
    return dict(line.split(" ::= ", 1) for line in grammar.splitlines())


def test_number_lower_bounds() -> None:
    positive = _rules(arguments_grammar({"type": "number", "exclusiveMinimum": 0}))["root-positive"]
    nonnegative = _rules(arguments_grammar({"type": "number", "minimum": 0}))["root-nonnegative"]
    for rule, good, bad in [(positive, ["3", "0.5", "0.05", "12.50"], ["0", "0.0", "0.000", "-1", "01", "1e5"]),
                            (nonnegative, ["0", "0.0", "7", "10.25"], ["-1", "-0.5", "01", "1."])]:
        pattern = re.compile(_gbnf_to_regex(rule.removesuffix(" space")))
        assert all(pattern.fullmatch(t) for t in good) and not any(pattern.fullmatch(t) for t in bad), rule


def test_free_text_cannot_hold_a_call_or_markup() -> None:
    char = _rules(tool_call_grammar(tool_schemas(["submit"])))["tc-text-char"]
    text = re.compile(f"(?:{_gbnf_to_regex(char)})*", re.S)
    for ok in ["Let me look.\nThen fix it.", "if a < b and x <= 3 or y <5", "run `pytest -q` then ``x`` now"]:
        assert text.fullmatch(ok), ok
    for bad in ["<tool_call>", "x {", "```json", "<|im_end|>", "<function=grep>", "</tool_call>", "ends in `"]:
        assert not text.fullmatch(bad), bad


def test_every_tool_gets_its_own_call_rule() -> None:
    grammar = tool_call_grammar(tool_schemas())
    rules = _rules(grammar)
    assert grammar.startswith("root ::= ")
    names = [spec.name for spec in all_tools().values()]
    alternatives = rules["tc-call"].split(" | ")
    assert len(alternatives) == len(names)
    for name, rule in zip(names, alternatives):
        assert f'\\"{name}\\"' in rules[rule]
    assert rules["tc-text"] == "tc-text-char{0,1500}"
    assert "char" in rules and "\\x00-\\x1F" in rules["char"]  # no raw control characters inside JSON strings


def test_styles_and_text_options() -> None:
    tools = tool_schemas(["submit"])
    assert tool_call_grammar(tools, max_text_chars=0).splitlines()[0] == \
        'root ::= ("<tool_call>\\n" tc-call "\\n</tool_call>")'
    every = tool_call_grammar(tools, styles=("bare", "fenced", "tagged"), allow_no_call=True).splitlines()[0]
    assert every == 'root ::= tc-text ("<tool_call>\\n" tc-call "\\n</tool_call>" | "```json\\n" tc-call "\\n```" ' \
                    '| tc-call)?'
    with pytest.raises(ValueError, match="styles"):
        tool_call_grammar(tools, styles=("xml",))
    with pytest.raises(ValueError, match="no tools"):
        tool_call_grammar([])


def _sample(schema: dict[str, Any]) -> Any:
    """A small value valid for one property schema (as the tools' schemas use them)."""
    if "const" in schema:
        return schema["const"]
    if "anyOf" in schema:
        return _sample(schema["anyOf"][0])
    return {"string": "x", "integer": max(schema.get("minimum", 1), 1), "array": ["x"]}[schema["type"]]


def test_edit_file_refinement_matches_its_validator() -> None:
    spec = all_tools()["edit_file"]
    variants = _edit_file_variants(spec.schema()["function"]["parameters"])["anyOf"]
    assert len(variants) == 4
    optional = {"old": "x", "new": "x", "line": 1}
    for variant in variants:
        props = variant["properties"]
        minimal = {key: _sample(props[key]) for key in variant["required"]}
        spec.args.model_validate(minimal)
        for key in variant["required"]:
            if key not in ("path", "command"):
                with pytest.raises(ValidationError):
                    spec.args.model_validate({k: v for k, v in minimal.items() if k != key})
        for key, value in optional.items():
            if key not in props:  # the refinement leaves it out because the validator rejects it
                with pytest.raises(ValidationError):
                    spec.args.model_validate({**minimal, key: value})
    assert _edit_file_variants({"type": "object", "properties": {"x": {"type": "string"}}}) == \
        {"type": "object", "properties": {"x": {"type": "string"}}}


# ---------------------------------------------------------------- with the tiny random-weight model


def _prompt(llm: Any, tools: list[dict[str, Any]]) -> list[int]:
    text = render_chat(str(llm.metadata["tokenizer.chat_template"]), MESSAGES, tools)
    return list(llm.tokenize(text.encode("utf-8"), add_bos=False, special=True))


def _generate(llm: Any, prompt: list[int], seed: int, grammar: str | None, max_tokens: int) -> tuple[str, str]:
    from llama_cpp import LogitsProcessorList

    processors = LogitsProcessorList([GrammarLogitsProcessor(llm, grammar)]) if grammar else None
    out = llm.create_completion(prompt, max_tokens=max_tokens, temperature=1.0, seed=seed,
                                logits_processor=processors)
    choice = out["choices"][0]
    return choice["text"], choice["finish_reason"]


def _valid_call(text: str, tools: list[dict[str, Any]]) -> str | None:
    """The tool name when TEXT parses into exactly one call whose arguments validate, else None."""
    _, calls = parse_tool_calls(text, tools)
    specs = all_tools()
    if len(calls) != 1 or calls[0].parse_error or calls[0].name not in specs:
        return None
    try:
        specs[calls[0].name].args.model_validate(calls[0].arguments)
    except ValidationError:
        return None
    return calls[0].name


def test_grammars_compile_in_llama_cpp(tiny_llama: Any) -> None:
    tools = tool_schemas()
    grammars = [tool_call_grammar(tools), tool_call_grammar(tools, **SMALL),
                tool_call_grammar(tools, max_text_chars=0, styles=("tagged", "fenced", "bare"), allow_no_call=True),
                *(arguments_grammar(t["function"]["parameters"]) for t in tools),
                arguments_grammar({"type": "integer", "minimum": 1})]
    for grammar in grammars:
        GrammarLogitsProcessor(tiny_llama, grammar)  # llama_sampler_init_grammar: what grammar= uses too
    with pytest.raises(GrammarError):
        GrammarLogitsProcessor(tiny_llama, "root ::= undefined-rule")


def test_random_model_under_the_grammar_always_makes_one_valid_call(tiny_llama: Any) -> None:
    tools = tool_schemas()
    prompt = _prompt(tiny_llama, tools)
    grammar = tool_call_grammar(tools, **SMALL)
    names = []
    for seed in range(20):
        text, finish = _generate(tiny_llama, prompt, seed, grammar, max_tokens=400)
        assert finish == "stop", text
        assert text.count("<tool_call>") == 1 and text.endswith("</tool_call>"), text
        name = _valid_call(text, tools)
        assert name is not None, text
        names.append(name)
    assert len(set(names)) >= 3, names  # different tools' argument grammars were exercised


def test_fenced_and_bare_styles_also_parse_as_one_valid_call(tiny_llama: Any) -> None:
    tools = tool_schemas()
    prompt = _prompt(tiny_llama, tools)
    grammar = tool_call_grammar(tools, styles=("fenced", "bare"), **SMALL)
    for seed in range(5):
        text, finish = _generate(tiny_llama, prompt, 100 + seed, grammar, max_tokens=400)
        assert finish == "stop" and "<tool_call>" not in text, text
        assert _valid_call(text, tools) is not None, text


def test_random_model_without_the_grammar_makes_no_valid_call(tiny_llama: Any) -> None:
    tools = tool_schemas()
    prompt = _prompt(tiny_llama, tools)
    for seed in range(5):
        text, _ = _generate(tiny_llama, prompt, seed, None, max_tokens=150)
        assert _valid_call(text, tools) is None, text


def test_arrays_are_bounded_so_a_small_model_cannot_list_forever() -> None:
    """Regression: the 0.5B model spent 2048 tokens per reply listing update_plan steps until it was cut off."""
    from coder.runtime.server import RuntimeSettings

    rules = _rules(tool_call_grammar(tool_schemas(), max_array_items=RuntimeSettings.max_array_items))
    assert rules["update-plan-args-steps"].count("update-plan-args-steps-item") == 15  # the tool's own maxItems
    assert rules["update-plan-args-steps-item"].count("char") == 300  # and maxLength per step
    assert rules["run-tests-args-tests-0"].count("string") == RuntimeSettings.max_array_items  # the server's cap
