"""GBNF grammars (llama.cpp) that force a reply to end in exactly one well-formed call to one of the given tools."""

from __future__ import annotations

import copy
import ctypes
import json
import math
import re
import weakref
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

__all__ = ["tool_call_grammar", "arguments_grammar", "ARGUMENT_REFINEMENTS", "GrammarError", "GrammarLogitsProcessor"]

DEFAULT_MAX_TEXT_CHARS = 1500
MAX_INT_DIGITS = 15  # like llama.cpp's own number rules: keeps a rambling model from writing digits forever

# A JSON string character: no raw control characters (json.loads rejects them) and no \u escapes of lone
# surrogates (pydantic cannot hold them). llama-cpp-python's converter allows both.
_CHAR = (r'[^"\\\x7F\x00-\x1F] | "\\" (["\\/bfnrt] | "u" ([0-9a-cA-Ce-fE-F] [0-9a-fA-F] | [dD] [0-7])'
         r" [0-9a-fA-F] [0-9a-fA-F])")
# Visible text before the call. No "{" and no ``` fence (so no bare or fenced JSON that the tolerant parser would
# read as a second call: the 0.5B model writes fenced pseudo-JSON calls with "[" when "{" is barred) and "<" only as a
# comparison ("a < b", "<= 3", "<5"), so no <tool_call>, </tool_call>, <|im_end|>, <function=...> or other markup.
# (A backtick must be followed by another character, so the text cannot end in one.)
_TEXT_CHAR = r'[^<{`] | "<" [ =0-9] | "`" [^`<{] | "``" [^`<{]'
# How the call object may be wrapped: Qwen's trained Hermes tags, or the fenced / bare JSON small models fall into.
_STYLES = {"tagged": ('"<tool_call>\\n"', '"\\n</tool_call>"'), "fenced": ('"```json\\n"', '"\\n```"'),
           "bare": ("", "")}
_INVALID_RULE_CHARS = re.compile(r"[^a-zA-Z0-9-]+")


class GrammarError(ValueError):
    """llama.cpp could not parse a grammar."""


def _tool_name_and_parameters(tool: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    function = tool.get("function", tool)
    name = function.get("name")
    if not isinstance(name, str) or not name:
        raise ValueError(f"a tool has no name: {tool!r}")
    parameters = function.get("parameters") or {"type": "object", "properties": {}}
    return name, dict(parameters)


def _literal(text: str) -> str:
    """A GBNF string literal matching TEXT exactly."""
    return json.dumps(text, ensure_ascii=False).replace("\n", "\\n")


# ---------------------------------------------------------------- schema refinements


def _edit_file_variants(schema: dict[str, Any]) -> dict[str, Any]:
    """edit_file's model validator wants fields per command; spell that out as one object schema per command."""
    props = schema.get("properties", {})
    needs = {"replace": ("old", "new"), "insert": ("line", "new"), "create": ("new",), "undo": ()}
    nonempty = {"replace": "old", "insert": "new"}
    if set(props.get("command", {}).get("enum", ())) != set(needs) or not {"old", "new", "line"} <= set(props):
        return schema  # not the shape this refinement was written for
    variants = []
    for command, needed in needs.items():
        variant_props: dict[str, Any] = {}
        for key, sub in props.items():
            if key == "command":
                variant_props[key] = {"const": command}
            elif key in ("old", "new", "line"):
                if key in needed:
                    options = [s for s in sub.get("anyOf", [sub]) if s.get("type") != "null"]
                    chosen = dict(options[0]) if len(options) == 1 else {"anyOf": options}
                    if nonempty.get(command) == key and chosen.get("type") == "string":
                        chosen["minLength"] = max(1, chosen.get("minLength", 0))
                    variant_props[key] = chosen
            else:
                variant_props[key] = sub
        required = [k for k in schema.get("required", []) if k in variant_props] + list(needed)
        variants.append({"type": "object", "properties": variant_props, "required": required,
                         "additionalProperties": False})
    return {"anyOf": variants}


# Tool name -> rewrite of its parameters schema into a stricter one for decoding, for argument rules that JSON
# schema does not carry (pydantic model validators). Each rewrite must leave schemas of another shape alone.
ARGUMENT_REFINEMENTS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {"edit_file": _edit_file_variants}


# ---------------------------------------------------------------- integer ranges


def _digits_any(n: int) -> str:
    return "" if n <= 0 else ("[0-9]" if n == 1 else f"[0-9]{{{n}}}")


def _class(lo: int, hi: int) -> str:
    return f'"{lo}"' if lo == hi else f"[{lo}-{hi}]"


def _same_length(lo: str, hi: str) -> list[str]:
    """Alternatives matching the digit strings of len(lo) between lo and hi (inclusive, lo <= hi)."""
    if not lo:
        return [""]
    if lo[0] == hi[0]:
        return [f'"{lo[0]}" ({" | ".join(_same_length(lo[1:], hi[1:]))})' if len(lo) > 1 else f'"{lo[0]}"']
    rest = len(lo) - 1
    a, b = int(lo[0]), int(hi[0])
    if rest == 0:
        return [_class(a, b)]
    lo_full, hi_full = set(lo[1:]) == {"0"}, set(hi[1:]) == {"9"}  # all suffixes allowed after a / after b
    out = [] if lo_full else [f'"{a}" ({" | ".join(_same_length(lo[1:], "9" * rest))})']
    start, end = (a if lo_full else a + 1), (b if hi_full else b - 1)
    if start <= end:
        out.append(f"{_class(start, end)} {_digits_any(rest)}")
    if not hi_full:
        out.append(f'"{b}" ({" | ".join(_same_length("0" * rest, hi[1:]))})')
    return out


def _natural_range(lo: int, hi: int | None) -> str:
    """GBNF for the decimal numerals (no leading zeros) of the integers lo..hi (hi None: up to MAX_INT_DIGITS)."""
    alts: list[str] = []
    if lo == 0:
        alts.append('"0"')
        lo = 1
    top_len = len(str(hi)) if hi is not None else len(str(lo))
    for length in range(len(str(lo)), top_len + 1):
        first, last = max(lo, 10 ** (length - 1)), 10**length - 1
        if hi is not None:
            last = min(last, hi)
        if first <= last:
            alts.extend(_same_length(str(first), str(last)))
    if hi is None and top_len < MAX_INT_DIGITS:  # every longer numeral, up to MAX_INT_DIGITS digits
        alts.append(f"[1-9] [0-9]{{{top_len},{MAX_INT_DIGITS - 1}}}")
    return " | ".join(f"({a})" for a in alts) if alts else ""


def _integer_range(minimum: int | None, maximum: int | None) -> str | None:
    """GBNF for integers in [minimum, maximum] (None: unbounded); None when the range is empty."""
    alts: list[str] = []
    if maximum is None or maximum >= 0:
        body = _natural_range(max(minimum or 0, 0), maximum)
        if body:
            alts.append(f"({body})")
    if minimum is None or minimum < 0:
        low_mag = 1 if maximum is None or maximum >= 0 else -maximum
        high_mag = None if minimum is None else -minimum
        if high_mag is None or low_mag <= high_mag:
            body = _natural_range(low_mag, high_mag)
            if body:
                alts.append(f'"-" ({body})')
    return " | ".join(alts) if alts else None


# ---------------------------------------------------------------- schema -> GBNF


def _converter_class() -> type:
    from llama_cpp.llama_grammar import SchemaConverter  # llama-cpp-python's JSON-schema -> GBNF converter

    class Converter(SchemaConverter):  # type: ignore[misc, valid-type, unused-ignore]
        """llama-cpp-python's converter plus integer/number bounds, capped strings and strict JSON strings."""

        def __init__(self, max_string_chars: int | None, max_array_items: int | None) -> None:
            super().__init__(prop_order={}, allow_fetch=False, dotall=False,  # type: ignore[no-untyped-call]
                             raw_pattern=False)
            self.max_string_chars = max_string_chars
            self.max_array_items = max_array_items

        def _rule(self, name: str, body: str) -> str:
            return str(self._add_rule(name, body))  # type: ignore[no-untyped-call]

        def visit(self, schema: dict[str, Any], name: str) -> str:
            kind = schema.get("type")
            rule_name = name or "root"
            if kind == "integer" and any(k in schema for k in ("minimum", "maximum", "exclusiveMinimum",
                                                                "exclusiveMaximum")):
                lows = [math.ceil(schema["minimum"])] if schema.get("minimum") is not None else []
                if schema.get("exclusiveMinimum") is not None:
                    lows.append(math.floor(schema["exclusiveMinimum"]) + 1)
                highs = [math.floor(schema["maximum"])] if schema.get("maximum") is not None else []
                if schema.get("exclusiveMaximum") is not None:
                    highs.append(math.ceil(schema["exclusiveMaximum"]) - 1)
                lo, hi = max(lows, default=None), min(highs, default=None)
                body = _integer_range(lo, hi)
                if body is None:
                    raise ValueError(f"integer schema {name!r} admits no value: {schema}")
                return self._rule(f"{rule_name}-int", f"({body}) space")
            if kind == "number" and any(k in schema for k in ("minimum", "exclusiveMinimum")):
                # Only the lower bounds tools use (>= 0, > 0) are enforced; other bounds fall back to any number.
                lo, ex = schema.get("minimum"), schema.get("exclusiveMinimum")
                upper = schema.get("maximum") is not None or schema.get("exclusiveMaximum") is not None
                frac = f'("." [0-9]{{1,{MAX_INT_DIGITS}}})?'
                if ex == 0 and lo in (None, 0) and not upper:  # > 0; no exponent, as 1e-999 would round to 0
                    body = (f'[1-9] [0-9]{{0,{MAX_INT_DIGITS - 1}}} {frac} | '
                            f'"0." "0"{{0,{MAX_INT_DIGITS - 1}}} [1-9] [0-9]{{0,{MAX_INT_DIGITS - 1}}}')
                    return self._rule(f"{rule_name}-positive", f"({body}) space")
                if ex is None and lo == 0 and not upper:
                    body = f'("0" | [1-9] [0-9]{{0,{MAX_INT_DIGITS - 1}}}) {frac}'
                    return self._rule(f"{rule_name}-nonnegative", f"({body}) space")
            if kind == "string" and self.max_string_chars is not None and "pattern" not in schema \
                    and "format" not in schema and "enum" not in schema and "const" not in schema:
                capped = dict(schema)
                capped["maxLength"] = min(schema.get("maxLength", self.max_string_chars), self.max_string_chars)
                capped["minLength"] = min(schema.get("minLength", 0), capped["maxLength"])
                schema = capped
            if kind == "array" and self.max_array_items is not None and isinstance(schema.get("items"), dict):
                capped = dict(schema)
                capped["maxItems"] = min(schema.get("maxItems", self.max_array_items), self.max_array_items)
                capped["minItems"] = min(schema.get("minItems", 0), capped["maxItems"])
                schema = capped
            return str(super().visit(schema, name))  # type: ignore[no-untyped-call]

        def rules(self) -> dict[str, str]:
            rules = dict(self._rules)
            if "char" in rules:
                rules["char"] = _CHAR
            return rules

    return Converter


def _format(rules: Mapping[str, str]) -> str:
    order = ["root"] + sorted(k for k in rules if k != "root")
    return "\n".join(f"{name} ::= {rules[name]}" for name in order if name in rules) + "\n"


def _call_rules(tools: Sequence[Mapping[str, Any]], max_string_chars: int | None, max_array_items: int | None,
                refine: bool) -> tuple[dict[str, str], str]:
    """Rules for '{"name": "<tool>", "arguments": {...}}' over TOOLS, and the name of the rule that matches one."""
    if not tools:
        raise ValueError("no tools to build a tool-call grammar for")
    converter = _converter_class()(max_string_chars, max_array_items)
    call_rules: dict[str, str] = {}
    seen: set[str] = set()
    for tool in tools:
        name, parameters = _tool_name_and_parameters(tool)
        if name in seen:
            raise ValueError(f"duplicate tool name {name!r}")
        seen.add(name)
        if refine and name in ARGUMENT_REFINEMENTS:
            parameters = ARGUMENT_REFINEMENTS[name](copy.deepcopy(parameters))
        base = _INVALID_RULE_CHARS.sub("-", name).strip("-").lower() or "tool"
        prefix, i = base, 1
        while f"call-{prefix}" in call_rules:
            i += 1
            prefix = f"{base}{i}"
        args_rule = converter.visit(parameters, f"{prefix}-args")
        call_rules[f"call-{prefix}"] = (
            rf'"{{" space "\"name\"" space ":" space {_literal(json.dumps(name))} space "," space '
            rf'"\"arguments\"" space ":" space {args_rule} "}}"'
        )
    rules = converter.rules()
    clash = set(rules) & (set(call_rules) | {"root", "tc-call", "tc-text", "tc-text-char"})
    if clash:
        raise ValueError(f"grammar rule names collide: {sorted(clash)}")
    rules.update(call_rules)
    rules["tc-call"] = " | ".join(call_rules)
    return rules, "tc-call"


def tool_call_grammar(tools: Sequence[Mapping[str, Any]], *, max_text_chars: int = DEFAULT_MAX_TEXT_CHARS,
                      max_string_chars: int | None = None, max_array_items: int | None = None,
                      styles: Sequence[str] = ("tagged",), allow_no_call: bool = False, refine: bool = True) -> str:
    """GBNF: at most MAX_TEXT_CHARS of plain text, then exactly one Hermes call to one of TOOLS (OpenAI-style dicts):

        <tool_call>\\n{"name": "<tool>", "arguments": <object valid for that tool's parameters schema>}\\n</tool_call>

    The text may hold newlines but no "{", no ``` fence and no markup "<" (see _TEXT_CHAR), so
    coder.models.toolcall_parser.parse_tool_calls finds exactly this one call. styles may add "fenced"
    (```json\\n{...}\\n```) and "bare" ({...}) wrappings, which the parser reads too. max_string_chars and
    max_array_items cap every JSON string and array in the arguments (None: unbounded; caps make even a rambling model
    close the call soon). allow_no_call also accepts a reply of text only. refine applies ARGUMENT_REFINEMENTS.
    """
    unknown = set(styles) - set(_STYLES)
    if unknown or not styles:
        raise ValueError(f"styles must be a non-empty subset of {sorted(_STYLES)}, not {list(styles)}")
    rules, call = _call_rules(tools, max_string_chars, max_array_items, refine)
    blocks = " | ".join(f"{_STYLES[k][0]} {call} {_STYLES[k][1]}".strip() for k in _STYLES if k in styles)
    if max_text_chars > 0:
        rules["tc-text-char"] = _TEXT_CHAR
        rules["tc-text"] = f"tc-text-char{{0,{max_text_chars}}}"
        rules["root"] = f"tc-text ({blocks}){'?' if allow_no_call else ''}"
    else:
        rules["root"] = f"({blocks}){'?' if allow_no_call else ''}"
    return _format(rules)


def arguments_grammar(schema: Mapping[str, Any], *, max_string_chars: int | None = None,
                      max_array_items: int | None = None) -> str:
    """GBNF for one JSON value valid for SCHEMA (with the integer/number bounds and strict strings added here)."""
    converter = _converter_class()(max_string_chars, max_array_items)
    top = converter.visit(copy.deepcopy(dict(schema)), "")
    rules = converter.rules()
    rules.setdefault("root", top)
    return _format(rules)


# ---------------------------------------------------------------- fast constrained sampling

_TOKEN_DATA = np.dtype([("id", np.intc), ("logit", np.single), ("p", np.single)], align=True)


_VOCAB_INFO: weakref.WeakKeyDictionary[Any, tuple[np.ndarray, np.ndarray]] = weakref.WeakKeyDictionary()


def _vocab_info(llm: Any, vocab: Any) -> tuple[np.ndarray, np.ndarray]:
    """(end-of-generation token ids, ids of tokens whose text is 1-2 bytes) of LLM's vocabulary, cached per model."""
    import llama_cpp

    if llm not in _VOCAB_INFO:
        buf = ctypes.create_string_buffer(64)
        eog, short = [], []
        for token in range(llm.n_vocab()):
            if llama_cpp.llama_vocab_is_eog(vocab, token):
                eog.append(token)
            elif 0 < llama_cpp.llama_token_to_piece(vocab, token, buf, len(buf), 0, True) <= 2:
                short.append(token)
        _VOCAB_INFO[llm] = (np.array(eog, dtype=np.intc), np.array(eog + short, dtype=np.intc))
    return _VOCAB_INFO[llm]


class GrammarLogitsProcessor:
    """A llama-cpp-python logits processor that enforces a GBNF grammar, fast.

    llama-cpp-python's own `grammar=` runs llama.cpp's grammar filter over the whole vocabulary before every token
    (30-150 ms a token for Qwen's 152k tokens on this machine: several times the 0.5B model's whole decode step).
    This filters only the TOP_K likeliest tokens; when none of them fits it falls back to the ~5k tokens of one or
    two bytes (every text the grammar allows can be spelled with those) and only then to the whole vocabulary.
    With a real model the first stage nearly always succeeds. Pass it as
    `logits_processor=LogitsProcessorList([proc])` to create_completion (with grammar=None), one instance per
    generation. Once the grammar is complete only end-of-generation tokens are allowed, so generation stops there.
    """

    def __init__(self, llm: Any, grammar: str, *, top_k: int = 64, root: str = "root") -> None:
        import llama_cpp

        self._lib = llama_cpp
        vocab = llama_cpp.llama_model_get_vocab(llm.model)
        self._sampler = llama_cpp.llama_sampler_init_grammar(vocab, grammar.encode("utf-8"), root.encode())
        if not self._sampler:
            raise GrammarError("llama.cpp could not parse the grammar (its message went to stderr)")
        self._eog, self._short = _vocab_info(llm, vocab)
        self.top_k = top_k
        self._seen: int | None = None
        self.done = False  # the grammar is complete or stuck: only end-of-generation tokens are allowed
        self.tokens = 0  # tokens constrained so far
        self.fallbacks = 0  # of those, how many needed the short-token or whole-vocabulary filter

    def __del__(self) -> None:
        sampler, self._sampler = getattr(self, "_sampler", None), None
        if sampler:
            try:
                self._lib.llama_sampler_free(sampler)
            except Exception:  # interpreter shutdown
                pass

    def _allowed(self, ids: np.ndarray) -> np.ndarray:
        """The subset of IDS the grammar allows next."""
        data = np.zeros(len(ids), dtype=_TOKEN_DATA)
        data["id"] = ids
        array = self._lib.llama_token_data_array(
            data=data.ctypes.data_as(self._lib.llama_token_data_p), size=len(ids), selected=-1, sorted=False)
        self._lib.llama_sampler_apply(self._sampler, ctypes.byref(array))
        allowed: np.ndarray = ids[np.isfinite(data["logit"])]
        return allowed

    def _accept(self, token: int) -> None:
        if self.done or token in self._eog:
            self.done = True
            return
        if not len(self._allowed(np.array([token], dtype=np.intc))):
            self.done = True  # not a token this processor allowed (a caller's logit bias?): stop rather than crash
            return
        self._lib.llama_sampler_accept(self._sampler, token)

    def __call__(self, input_ids: np.ndarray, logits: np.ndarray) -> np.ndarray:
        if self._seen is None:
            self._seen = len(input_ids)
        for token in input_ids[self._seen:]:
            self._accept(int(token))
        self._seen = len(input_ids)
        self.tokens += 1
        masked = np.full_like(logits, -np.inf)
        if self.done:
            masked[self._eog] = logits[self._eog]
            return masked
        k = min(self.top_k, len(logits))
        allowed = self._allowed(np.argpartition(logits, -k)[-k:].astype(np.intc))
        if not len(allowed):
            self.fallbacks += 1
            allowed = self._allowed(self._short)
        if not len(allowed):
            allowed = self._allowed(np.arange(len(logits), dtype=np.intc))
        if not len(allowed):  # a dead end: cannot happen with a well-formed grammar; end rather than crash
            self.done = True
            allowed = self._eog
        masked[allowed] = logits[allowed]
        return masked
