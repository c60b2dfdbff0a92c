"""Recover tool calls that a model wrote as text (Hermes tags, bare or fenced JSON, Qwen3-Coder XML).

Over 400 lines on purpose: the shapes are tried in an order that matters (tags before fences before bare JSON), and
the lenient JSON reader they share is tuned to what small models write; split, the precedence would be spread over
files that each look complete."""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from coder.models.base import ToolCall

__all__ = ["parse_tool_calls", "loads_lenient", "param_types_from_tools"]

_TAG_OPEN = re.compile(r"<tool_call>", re.I)
_TAG_CLOSE = re.compile(r"</tool_call>", re.I)
_STRAY_TAG = re.compile(r"</?tool_call>", re.I)
_FUNC_OPEN = re.compile(r"<function=([^>\n]*)>")
_FUNC_CLOSE = re.compile(r"</function>")
_PARAM = re.compile(r"<parameter=([^>\n]*)>(.*?)(?:</parameter>|(?=<parameter=)|(?=</function>)|\Z)", re.S)
_FENCE = re.compile(r"```[ \t]*([\w+.-]*)[ \t]*\n?(.*?)(?:```|\Z)", re.S)
_KEYS = r"""["'](?:name|function|arguments|parameters|type)["']"""
_BARE_START = re.compile(r"\{\s*" + _KEYS + r"|\[\s*\{\s*" + _KEYS)
# A "clear call shape": even when the JSON is broken, the model plainly meant a call.
_CALL_SHAPE = re.compile(
    r"""^\s*[\[{]?\s*\{?\s*["']name["']\s*:\s*["']([^"'\n]*)["']\s*,\s*["'](?:arguments|parameters)["']\s*:"""
)
_NAME_ANYWHERE = re.compile(r"""["']name["']\s*:\s*["']([^"'\n]+)["']""")
_NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?")
_ARG_KEYS = ("arguments", "parameters")


@dataclass
class _Found:
    start: int
    end: int
    calls: list[ToolCall]


# ---------------------------------------------------------------- lenient JSON


_SPECIAL = re.compile(r"[\"'{}\[\]\\]")


def _scan_end(text: str, start: int) -> tuple[int, list[str], bool]:
    """Walk a JSON value from text[start] ('{' or '['); return (end, unclosed closers, ended inside a string)."""
    stack: list[str] = []
    quote = ""
    skip = -1
    for m in _SPECIAL.finditer(text, start):
        i = m.start()
        if i < skip:
            continue
        ch = text[i]
        if quote:
            if ch == "\\":
                skip = i + 2
            elif ch == quote:
                quote = ""
        elif ch in "\"'":
            quote = ch
        elif ch in "{[":
            stack.append("}" if ch == "{" else "]")
        elif ch in "}]":
            if not stack or stack[-1] != ch:
                return i, stack, False
            stack.pop()
            if not stack:
                return i + 1, [], False
    return len(text), stack, bool(quote)


_STRINGS = {
    q: re.compile("(" + "|".join(f"{c}(?:\\\\.|[^{c}\\\\])*(?:{c}|\\Z)" for c in q) + ")", re.S)
    for q in ('"', "\"'")
}


def _outside_strings(text: str, fn: Any, quotes: str = '"') -> str:
    """Apply fn to the text outside quoted strings (an unterminated string runs to the end)."""
    parts = _STRINGS[quotes].split(text)  # even indexes: outside strings; odd: the strings themselves
    if len(parts) == 1:
        return str(fn(text))
    held = parts[1::2]
    outside = fn("".join(p if i % 2 == 0 else f"\x01{i // 2}\x02" for i, p in enumerate(parts)))
    return re.sub(r"\x01(\d+)\x02", lambda m: held[int(m[1])], outside)


def _fix_trailing_commas(s: str) -> str:
    return re.sub(r",(\s*[}\]])", r"\1", s)


def _fix_py_literals(s: str) -> str:
    return re.sub(r"\b(True|False|None)\b", lambda m: {"True": "true", "False": "false", "None": "null"}[m[1]], s)


def _to_py_literals(s: str) -> str:
    return re.sub(r"\b(true|false|null)\b", lambda m: {"true": "True", "false": "False", "null": "None"}[m[1]], s)


def _fix_bad_escapes(text: str) -> str:
    return re.sub(r'\\(?!["\\/bfnrtu])', r"\\\\", text)


def loads_lenient(text: str) -> Any:
    """json.loads with light repairs (raw newlines, trailing commas, Python literals, quotes, bad escapes).

    Raises ValueError carrying the first strict-JSON error when no repair helps.
    """
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        first = exc
    candidates = [text]
    fixed = _outside_strings(text, lambda s: _fix_py_literals(_fix_trailing_commas(s)))
    candidates.append(fixed)
    candidates.append(_fix_bad_escapes(fixed))
    for cand in candidates:
        try:
            return json.loads(cand, strict=False)  # strict=False admits raw newlines/tabs inside strings
        except json.JSONDecodeError:
            pass
        try:  # trailing junk such as an extra closing brace
            value, end = json.JSONDecoder(strict=False).raw_decode(cand.strip())
            if not cand.strip()[end:].strip(" \t\r\n}]"):
                return value
        except json.JSONDecodeError:
            pass
    try:  # single-quoted keys/strings: Python literal syntax
        py = _outside_strings(text, _to_py_literals, quotes="\"'")
        value = ast.literal_eval(py.strip())
        if isinstance(value, (dict, list)):
            return value
    except (ValueError, SyntaxError, MemoryError, RecursionError, TypeError):
        pass
    raise ValueError(f"{first.msg} at line {first.lineno} column {first.colno}")


def _loads_truncated(text: str) -> Any:
    """Parse JSON that may miss its closing brackets (output cut short); errors name the problem."""
    start = next((i for i, c in enumerate(text) if c in "{["), None)
    if start is None:
        return loads_lenient(text)
    end, unclosed, in_string = _scan_end(text, start)
    if in_string:
        raise ValueError("the tool call JSON was cut off inside a string (output truncated?)")
    if unclosed and end == len(text):
        return loads_lenient(text[start:] + "".join(reversed(unclosed)))
    return loads_lenient(text[start:])


# ---------------------------------------------------------------- call building


def param_types_from_tools(tools: Sequence[Mapping[str, Any]] | None) -> dict[str, dict[str, set[str]]]:
    """tool name -> parameter name -> JSON-schema types (from OpenAI-style tool dicts)."""
    result: dict[str, dict[str, set[str]]] = {}
    for tool in tools or ():
        fn = tool.get("function", tool)
        if not isinstance(fn, Mapping) or not isinstance(fn.get("name"), str):
            continue
        props = (fn.get("parameters") or {}).get("properties") or {}
        params: dict[str, set[str]] = {}
        for pname, schema in props.items():
            types: set[str] = set()
            for sub in [schema, *schema.get("anyOf", []), *schema.get("oneOf", [])]:
                t = sub.get("type") if isinstance(sub, Mapping) else None
                types.update([t] if isinstance(t, str) else (t or []))
            params[pname] = types
        result[fn["name"]] = params
    return result


def _convert_param(value: str, types: set[str] | None) -> Any:
    """A Qwen3-Coder XML parameter value (raw text) as a JSON value; schema 'string' keeps it raw."""
    if value.startswith("\n"):
        value = value[1:]
    if value.endswith("\n"):
        value = value[:-1]
    if types and types <= {"string", "null"} and "string" in types:
        return value
    s = value.strip()
    if s in ("true", "false", "null") or _NUMBER.fullmatch(s):
        return json.loads(s)
    if s and s[0] in "{[":
        try:
            return loads_lenient(s)
        except ValueError:
            return value
    return value


def _call(name: str, args: Any, raw: str, error: str | None = None) -> ToolCall:
    if error is None and isinstance(args, str):
        if not args.strip():
            args = {}
        else:
            try:
                args = loads_lenient(args)
            except ValueError as exc:
                error = f"arguments of '{name}' are not valid JSON: {exc}"
    if error is None and args is None:
        args = {}
    if error is None and not isinstance(args, dict):
        error = f"arguments of '{name}' must be a JSON object, got {type(args).__name__}"
    if error is None and not name:
        error = "the tool call has no function name"
    return ToolCall(id="", name=name, arguments=args if error is None else {}, raw=raw, parse_error=error)


def _from_obj(obj: Any, raw: str, lenient: bool) -> ToolCall | None:
    """A call from a parsed JSON object, or None when it does not look like one."""
    if not isinstance(obj, dict):
        return None
    if isinstance(obj.get("function"), dict):
        return _from_obj(obj["function"], raw, lenient)
    name = obj.get("name", obj.get("function"))
    if not isinstance(name, str):
        return None
    for key in _ARG_KEYS:
        if key in obj:
            return _call(name.strip(), obj[key], raw)
    if not lenient:
        return None
    return _call(name.strip(), {k: v for k, v in obj.items() if k not in ("name", "type", "id")}, raw)


def _from_value(value: Any, raw: str, lenient: bool) -> list[ToolCall] | None:
    """Calls from an object or a list of objects; None unless every element is a call."""
    items = value if isinstance(value, list) else [value]
    calls = [_from_obj(v, raw, lenient) for v in items]
    if not calls or any(c is None for c in calls):
        return None
    return [c for c in calls if c is not None]


def _error_call(raw: str, error: str) -> ToolCall:
    m = _NAME_ANYWHERE.search(raw)
    return ToolCall(id="", name=m[1].strip() if m else "", arguments={}, raw=raw, parse_error=error)


def _json_values(text: str, anchored: bool = False) -> tuple[list[tuple[int, int, Any]], str | None]:
    """Consecutive JSON values (separated only by whitespace/commas) as (start, end, value).

    The first value starts at the first '{' or '[' (at the first non-space character when anchored);
    scanning stops quietly at anything else, or at a broken value, whose error is returned.
    """
    found: list[tuple[int, int, Any]] = []
    m = re.compile(r"\s*[{\[]").match(text) if anchored else re.search(r"[{\[]", text)
    pos = m.end() - 1 if m else -1
    while pos >= 0:
        end, unclosed, _ = _scan_end(text, pos)
        chunk = text[pos:end]
        try:
            value = _loads_truncated(chunk) if unclosed and end == len(text) else loads_lenient(chunk)
        except ValueError as exc:
            return found, str(exc)
        found.append((pos, end, value))
        nxt = re.compile(r"[\s,]*[{\[]").match(text, end)
        pos = nxt.end() - 1 if nxt else -1
    return found, None


def _strip_fence(text: str) -> str:
    m = re.fullmatch(r"\s*```[\w+.-]*[ \t]*\n?(.*?)(?:```)?\s*", text, re.S)
    return m[1] if m else text


# ---------------------------------------------------------------- the shapes


def _xml_calls(text: str, types: Mapping[str, Mapping[str, set[str]]]) -> list[tuple[int, int, ToolCall]]:
    """Qwen3-Coder `<function=NAME><parameter=P>v</parameter></function>` blocks (closing tags optional)."""
    out: list[tuple[int, int, ToolCall]] = []
    opens = list(_FUNC_OPEN.finditer(text))
    for k, m in enumerate(opens):
        limit = opens[k + 1].start() if k + 1 < len(opens) else len(text)
        close = _FUNC_CLOSE.search(text, m.end(), limit)
        end = close.end() if close else limit
        body = text[m.end() : close.start() if close else limit]
        name = m[1].strip().strip("\"'")
        ptypes = types.get(name, {})
        args: dict[str, Any] = {}
        error = None
        for p in _PARAM.finditer(body):
            pname = p[1].strip().strip("\"'")
            if not pname:
                error = f"a <parameter=...> tag of '{name}' has no name"
                continue
            args[pname] = _convert_param(p[2], ptypes.get(pname))
        if not _PARAM.search(body) and body.strip():
            try:  # a JSON object where the parameters should be
                args = loads_lenient(_strip_fence(body).strip())
            except ValueError:
                error = f"could not read the parameters of '{name}': expected <parameter=NAME>value</parameter>"
        out.append((m.start(), end, _call(name, args, text[m.start() : end], error)))
    return out


def _tagged(text: str, types: Mapping[str, Mapping[str, set[str]]]) -> list[_Found]:
    """Hermes `<tool_call>...</tool_call>` blocks; a missing closing tag ends the block after its call."""
    found: list[_Found] = []
    opens = list(_TAG_OPEN.finditer(text))
    for k, m in enumerate(opens):
        limit = opens[k + 1].start() if k + 1 < len(opens) else len(text)
        close = _TAG_CLOSE.search(text, m.end(), limit)
        inner_end = close.start() if close else limit
        inner = text[m.end() : inner_end]
        if _FUNC_OPEN.search(inner):
            xml = _xml_calls(inner, types)
            end = close.end() if close else m.end() + xml[-1][1]
            found.append(_Found(m.start(), end, [c for _, _, c in xml]))
            continue
        body = _strip_fence(inner)
        values, error = _json_values(body)
        calls: list[ToolCall] = []
        for _, _, value in values:
            got = _from_value(value, body.strip(), lenient=True)
            calls.extend(got or [_error_call(body.strip(), "expected {\"name\": ..., \"arguments\": {...}}")])
        if error:
            calls.append(_error_call(body.strip(), f"could not parse the tool call JSON: {error}"))
        if not values and not error and body.strip():
            calls.append(_error_call(body.strip(), "expected {\"name\": ..., \"arguments\": {...}} inside <tool_call>"))
        if close:
            end = close.end()
        elif values and not error:
            end = m.end() + (inner.find(body) if body in inner else 0) + values[-1][1]
        else:
            end = limit
        if calls or close:
            found.append(_Found(m.start(), end, calls))
    return found


def _fenced(text: str) -> list[_Found]:
    """``` fences (json or unlabeled) holding a call, a list of calls, or several call objects."""
    found: list[_Found] = []
    for m in _FENCE.finditer(text):
        body = m[2]
        if not _CALL_SHAPE.search(body) and not _BARE_START.search(body):
            continue
        values, error = _json_values(body, anchored=True)
        calls: list[ToolCall] = []
        ok = bool(values)
        for _, _, value in values:
            got = _from_value(value, body.strip(), lenient=False)
            ok = ok and got is not None
            calls.extend(got or [])
        rest = body
        for s, e, _ in reversed(values):
            rest = rest[:s] + rest[e:]
        if error and _CALL_SHAPE.search(body[values[-1][1] if values else 0 :]):
            calls.append(_error_call(body.strip(), f"could not parse the tool call JSON: {error}"))
            ok = True
        if ok and calls and not re.sub(r"[\s,]", "", rest if not error else ""):
            found.append(_Found(m.start(), m.end(), calls))
    return found


def _bare(text: str) -> list[_Found]:
    """Bare JSON call objects (or lists of them) anywhere in prose."""
    found: list[_Found] = []
    i = 0
    while True:
        m = _BARE_START.search(text, i)
        if not m:
            return found
        start = m.start()
        end, unclosed, _ = _scan_end(text, start)
        chunk = text[start:end]
        if unclosed and not _CALL_SHAPE.match(chunk):  # unbalanced and not plainly a call: not worth repairing
            i = start + 1
            continue
        try:
            value = _loads_truncated(chunk) if unclosed and end == len(text) else loads_lenient(chunk)
        except ValueError as exc:
            if _CALL_SHAPE.match(chunk):
                found.append(_Found(start, end, [_error_call(chunk, f"could not parse the tool call JSON: {exc}")]))
                i = end
            else:
                i = start + 1
            continue
        calls = _from_value(value, chunk, lenient=False)
        if calls:
            found.append(_Found(start, end, calls))
            i = end
        else:
            i = start + 1


# ---------------------------------------------------------------- entry point


def _mask(text: str, spans: list[_Found]) -> str:
    """Blank out claimed spans (keeping offsets) so later shapes do not see them again."""
    chars = list(text)
    for f in spans:
        chars[f.start : f.end] = " " * (f.end - f.start)
    return "".join(chars)


def parse_tool_calls(
    text: str, tools: Sequence[Mapping[str, Any]] | None = None
) -> tuple[str, list[ToolCall]]:
    """Split model text into (visible text without call markup, tool calls in the order written).

    tools (optional, OpenAI-style dicts) lets Qwen3-Coder XML parameters declared as strings stay strings;
    without it, JSON-looking values (numbers, true/false/null, lists, objects) are converted.
    """
    types = param_types_from_tools(tools)
    finders: list[Callable[[str], list[_Found]]] = [  # most explicit shape first; each claims its spans
        lambda t: _tagged(t, types),
        lambda t: [_Found(s, e, [c]) for s, e, c in _xml_calls(t, types)],
        _fenced,
        _bare,
    ]
    spans: list[_Found] = []
    masked = text
    for find in finders:
        new = find(masked)
        spans += new
        masked = _mask(masked, new)
    spans.sort(key=lambda f: f.start)

    calls: list[ToolCall] = []
    pieces: list[str] = []
    pos = 0
    for f in spans:
        pieces.append(text[pos : f.start])
        pos = max(pos, f.end)
        for c in f.calls:
            calls.append(ToolCall(f"call_{len(calls)}", c.name, c.arguments, c.raw, c.parse_error))
    pieces.append(text[pos:])
    visible = pieces[0]
    for piece in pieces[1:]:  # "see  here" -> "see here" where a call was cut out mid-sentence
        visible += piece[1:] if visible.endswith(" ") and piece.startswith(" ") else piece
    if spans or _STRAY_TAG.search(visible):
        visible = _STRAY_TAG.sub("", visible)
        visible = re.sub(r"```[\w+.-]*\s*```", "", visible)
        visible = re.sub(r"[ \t]+\n", "\n", visible)
        visible = re.sub(r"\n{3,}", "\n\n", visible).strip()
    return visible, calls
