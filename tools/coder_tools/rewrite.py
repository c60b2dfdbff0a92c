"""rewrite_functions: replace whole functions of a file by name with the ones a model wrote (all tree-sitter languages)."""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass

from pydantic import Field
from tree_sitter import Node

from .base import ToolArgs, ToolError, ToolResult, ToolSpec, Workspace, read_text
from .edit import _commit
from .paths import check_writable
from .rewrite_defs import (
    COMMENT_TYPES,
    Definition,
    blank_lines,
    changed_lines,
    declarator_name,
    definitions,
    eol_of,
    expand,
    first_error,
    indent_at,
    leading,
    line_start,
    params_node,
    reindent,
    written_scope,
)
from .rewrite_module import module_edits
from .treesitter import LANGUAGES, language_for, parser_for

# Wrappers that let a method given alone parse where the grammar has no top-level methods.
_WRAP_NAME = "CoderRewriteWrapper__"
_WRAPS: dict[str, tuple[bytes, bytes]] = {
    lang: (f"class {_WRAP_NAME} {{\n".encode(), b"\n}\n") for lang in ("javascript", "typescript", "tsx", "java")
} | {"cpp": (f"class {_WRAP_NAME} {{\npublic:\n".encode(), b"\n};\n")}
# Languages where a helper returned next to a method may belong at module level rather than in the class.
_FREE_HELPERS = frozenset({"python", "javascript", "typescript", "tsx", "rust"})
_ALIASES: dict[str, str] = {
    "py": "python", "python3": "python", "py3": "python", "js": "javascript", "jsx": "javascript", "mjs": "javascript",
    "node": "javascript", "ts": "typescript", "golang": "go", "rs": "rust", "h": "c", "c++": "cpp", "cc": "cpp",
    "cxx": "cpp", "hpp": "cpp",
}  # fmt: skip
_FAMILY: dict[str, str] = {"typescript": "js", "tsx": "js", "javascript": "js", "c": "c", "cpp": "c"}
_FENCE_OPEN = re.compile(r"^( {0,3})(`{3,}|~{3,})[ \t]*([^\s`]*)")


def fenced_code(reply: str) -> list[tuple[str | None, str]]:
    """The fenced code blocks of a markdown reply as (language or None, code); an unclosed last block runs to the end."""
    blocks: list[tuple[str | None, str]] = []
    opened: tuple[int, str, str | None] | None = None
    body: list[str] = []
    for line in reply.replace("\r\n", "\n").split("\n"):
        if opened is None:
            m = _FENCE_OPEN.match(line)
            if m and not (m.group(2)[0] == "`" and "`" in line[m.end(2) :]):
                opened, body = (len(m.group(1)), m.group(2), m.group(3).lower().lstrip("{.") or None), []
            continue
        indent, fence, lang = opened
        if re.fullmatch(rf" {{0,3}}{re.escape(fence[0])}{{{len(fence)},}}[ \t]*", line):
            blocks.append((lang, "".join(f"{ln}\n" for ln in body)))
            opened = None
            continue
        body.append(line[min(indent, len(line) - len(line.lstrip(" "))) :])
    if opened is not None:
        while body and not body[-1].strip():
            body.pop()
        blocks.append((opened[2], "".join(f"{ln}\n" for ln in body)))
    return blocks


def _same_language(tag: str | None, language: str) -> bool:
    if tag is None:
        return True
    lang = _ALIASES.get(tag, tag)
    return lang == language or _FAMILY.get(lang, lang) == _FAMILY.get(language, language)


def code_from_reply(reply: str, language: str) -> str:
    """The code of a reply: its fenced blocks in the file's language (or untagged), joined; the reply itself when it
    has no fence."""
    blocks = fenced_code(reply)
    if not blocks:
        return reply
    chosen = [code for tag, code in blocks if _same_language(tag, language)] or [code for _, code in blocks]
    return "\n".join(chosen)


@dataclass(frozen=True)
class Rewrite:
    """The outcome of rewrite_functions: the new text, what was replaced and added, or why nothing was done."""

    text: str
    replaced: tuple[str, ...] = ()
    added: tuple[str, ...] = ()
    problem: str | None = None
    elsewhere: bool = False  # the problem is that no name of the reply is in this file: another file may hold them
    same: bool = False  # the problem is that the reply's code is what the file already says


class _Problem(Exception):
    """A reply that cannot be applied; becomes Rewrite.problem."""


class _Elsewhere(_Problem):
    """None of the reply's names is defined in this file."""


class _Same(_Problem):
    """The reply's code is the file's own: applying it changes nothing."""


@dataclass(eq=False)
class _Action:
    """One definition of the reply: the source definition it replaces (None: it is new) and where it sits."""

    unit: Definition
    target: Definition | None
    scope: Definition | None  # the reply's class whose methods are replaced one by one
    sources: list[Definition]  # the file's containers matching scope
    span: tuple[int, int] = (0, 0)  # the source bytes it replaces
    text: bytes = b""  # the new bytes
    name: str = ""  # a new definition's name, qualified by the class it went into


def _parse_reply(code: str, lang: str) -> tuple[bytes, list[Definition]]:
    """The reply's bytes (maybe wrapped in a class) and its top-level definitions; _Problem when it does not parse."""
    lines = textwrap.dedent(code.replace("\r\n", "\n")).split("\n")
    while lines and not lines[0].strip():
        lines.pop(0)
    text = "\n".join(lines).rstrip() + "\n"
    if not text.strip():
        raise _Problem("the reply has no code")
    data = text.encode("utf-8", errors="surrogateescape")
    tree = parser_for(lang).parse(data)
    if tree.root_node.has_error and lang in _WRAPS:
        before, after = _WRAPS[lang]
        wrapped = parser_for(lang).parse(before + data + after)
        if not wrapped.root_node.has_error:
            defs = definitions(wrapped, lang)
            wrapper = next((d for d in defs if d.name == _WRAP_NAME and d.parent is None), None)
            if wrapper is not None:
                for child in wrapper.children:
                    child.parent = None
                return before + data + after, [d for d in defs if d.parent is None and d is not wrapper]
    if tree.root_node.has_error:
        bad = first_error(tree.root_node)
        where = ""
        if bad is not None:
            near = (bad.text or b"").decode("utf-8", errors="replace").strip().split("\n")[0][:60]
            what = f"missing {bad.type}" if bad.is_missing else f"unexpected {near!r}" if near else "a syntax error"
            where = f" (line {bad.start_point.row + 1}: {what})"
        raise _Problem(f"the reply's code does not parse as {lang}{where}")
    return data, [d for d in definitions(tree, lang) if d.parent is None]


def _match(unit: Definition, defs: list[Definition], lang: str, scope: str | None) -> Definition | None:
    """The file's function that unit replaces: same name (and class, when known); None when unit is new."""
    found = [d for d in defs if d.is_function and d.name == unit.name and not d.in_function]
    if scope is not None:
        found = [d for d in found if d.container == scope]
    elif unit.owner is not None or lang == "go":  # Go: a function without a receiver is never a method
        found = [d for d in found if d.container == unit.owner]
    if len(found) > 1:
        same = [d for d in found if d.params() == unit.params()]
        found = same if len(same) == 1 else found
    if len(found) > 1:
        where = ", ".join(f"{d.qualified} (line {d.line})" for d in found)
        raise _Problem(f"'{unit.name}' is ambiguous in the file: {where}; give the function inside its class")
    return found[0] if found else None


def _body_size(d: Definition) -> int:
    body = d.node.child_by_field_name("body")
    return 0 if body is None else sum(1 for c in body.named_children if c.type not in COMMENT_TYPES)


def _whole(unit: Definition, source: Definition, defs: list[Definition]) -> bool:
    """Whether the reply's class is the whole class (every member of the file's, attributes too), not a part whose
    methods the file defines elsewhere (C++ out of line)."""
    methods = {m.name for m in unit.members}
    if any(d.owner == unit.name and d.parent is None and d.name in methods for d in defs):
        return False
    return unit.child_names >= source.child_names and _body_size(unit) >= _body_size(source)


def _plan(units: list[Definition], defs: list[Definition], lang: str) -> list[_Action]:
    actions: list[_Action] = []
    for unit in units:
        if unit.is_function:
            actions.append(_Action(unit, _match(unit, defs, lang, None), None, []))
            continue
        sources = [d for d in defs if d.is_container and d.name == unit.name and d.kind == unit.kind]
        if not sources:
            actions.append(_Action(unit, None, None, []))
        elif len(sources) == 1 and _whole(unit, sources[0], defs):
            actions.append(_Action(unit, sources[0], None, sources))  # the whole class
        else:
            actions.extend(_Action(m, _match(m, defs, lang, unit.name), unit, sources) for m in unit.members)
    latest: dict[object, _Action] = {}
    for a in actions:  # a definition given twice: the later one wins
        latest[id(a.target) if a.target is not None else (id(a.scope), a.unit.owner, a.unit.name)] = a
    return [a for a in actions if a in latest.values()]


def _new_text(a: _Action, reply: bytes, indent: bytes, eol: bytes, scope: bytes = b"") -> bytes:
    """The reply's bytes of a definition (attached comments and wrappers included), re-indented; scope: a C++
    'Type::' to put before its name."""
    outer, _ = expand(a.unit.node)
    start, _ = leading(outer, reply)
    block = reply[start : outer.end_byte]
    name = declarator_name(a.unit.node) if scope else None
    if name is not None:
        block = block[: name.start_byte - start] + scope + block[name.start_byte - start :]
    return reindent(block, reply[line_start(reply, start) : start], indent, eol)


def _replacement(a: _Action, reply: bytes, source: bytes, eol: bytes) -> None:
    """Fill in the span of the file a replacing action covers and its new bytes."""
    assert a.target is not None
    outer, wrappers = expand(a.unit.node)
    target, _ = expand(a.target.node, wrappers)  # wrappers the reply leaves out (export, decorators) stay
    start = target.start_byte
    unit_lead, unit_attr = leading(outer, reply)
    if unit_lead < outer.start_byte:  # the reply brings its own comments/attributes: they replace the file's
        lead, attr = leading(target, source)
        if unit_attr or not attr:
            start = lead
    a.span = (start, target.end_byte)
    a.text = _new_text(a, reply, indent_at(source, start), eol, written_scope(a.target, a.unit))


def _member_like(a: _Action, replaced: list[_Action], lang: str) -> bool:
    """Whether a helper given next to a method alone is a method too (else it goes to module level)."""
    if lang not in _FREE_HELPERS or a.unit.is_container:
        return lang not in _FREE_HELPERS
    name = a.unit.name.encode()
    if any(re.search(rb"\b(self|this|cls|Self)(\.|::)" + re.escape(name) + rb"\b", r.text) for r in replaced):
        return True
    params = params_node(a.unit.node)
    if params is None:
        return False
    if lang == "rust":
        return any(c.type == "self_parameter" for c in params.named_children)
    first = next(iter(params.named_children), None)
    return lang == "python" and first is not None and (first.text or b"") in (b"self", b"cls")


def _insertion(a: _Action, i: int, actions: list[_Action], reply: bytes, source: bytes, lang: str, eol: bytes,
               ) -> tuple[int, bytes]:  # fmt: skip
    """Where a new definition goes (next to the replaced definition it accompanies) and the bytes to insert."""
    replaced = [b for b in actions if b.target is not None]
    scoped = [b for b in replaced if a.scope is not None and b.scope is a.scope]
    pool = scoped if a.scope is not None else replaced
    before = [b for b in pool if actions.index(b) < i]
    after = [b for b in pool if actions.index(b) > i]
    place_after = bool(before) or not after
    anchor: Definition
    if before or after:
        near = before[-1] if before else after[0]
        assert near.target is not None
        anchor = near.target
        start, end = near.span
        # A new member of a class in the reply stays with its class; a helper outside it, or one given next to a
        # method given alone that does not look like a method, goes next to the file's top-level definition.
        stays = a.scope is not None or (near.scope is None and _member_like(a, replaced, lang))
        if anchor.parent is not None and not stays:
            anchor = anchor.outermost()
            top, _ = expand(anchor.node)
            start, end = leading(top, source)[0], top.end_byte
    else:  # a new method of a class none of whose methods were replaced: after the class's last method
        members = [m for s in a.sources for m in s.members]
        if not members:
            raise _Problem(f"cannot place the new method {a.unit.name}: class {a.sources[0].name} has no methods")
        anchor = members[-1]
        top, _ = expand(anchor.node)
        start, end = leading(top, source)[0], top.end_byte
    inside = anchor.parent is not None and anchor.parent.is_container and a.unit.owner is None
    a.name = f"{anchor.parent.name}{a.unit.sep}{a.unit.name}" if inside and anchor.parent else a.unit.qualified
    while place_after and source[end : end + 1] == b";":  # C++ 'class A {...};'
        end += 1
    indent = indent_at(source, start)
    text = _new_text(a, reply, indent, eol)
    blanks = eol * blank_lines(source, end if place_after else start, place_after, lang, indent)
    if place_after:
        return end, eol + blanks + indent + text
    return start, text + eol + blanks + indent


def _apply(source: bytes, edits: list[tuple[int, int, int, bytes]]) -> bytes:
    out: list[bytes] = []
    pos = 0
    for start, end, _, text in sorted(edits):
        if start < pos:
            raise _Problem("the reply's definitions overlap in the file (a class given whole and one of its methods?)")
        out += [source[pos:start], text]
        pos = end
    return b"".join([*out, source[pos:]])


def _where(node: Node | None) -> str:
    return f" (line {node.start_point.row + 1})" if node is not None else ""


def _rewrite(source: str, language: str, code: str) -> Rewrite:
    if language not in LANGUAGES:
        raise _Problem(f"unsupported language {language!r}; supported: {', '.join(LANGUAGES)}")
    reply, units = _parse_reply(code, language)
    src = source.encode("utf-8", errors="surrogateescape")
    tree = parser_for(language).parse(src)
    eol = eol_of(src)
    module = module_edits(reply, src, tree.root_node, language, eol)
    constants = [m for m in module if m.replaces]
    if not units and not constants:
        raise _Problem("the reply's code has no function or class definition (nor a constant of the file)")
    actions = _plan(units, definitions(tree, language), language)
    replaced = [a for a in actions if a.target is not None]
    if units and not actions:
        raise _Problem("the reply gives part of a class without any method of it to replace")
    if not replaced and not constants:
        names = ", ".join(a.unit.name for a in actions)
        raise _Elsewhere(f"none of the reply's definitions ({names}) is in the file; keep the names the file uses")
    for a in replaced:
        _replacement(a, reply, src, eol)
    edits = [(a.span[0], a.span[1], i, a.text) for i, a in enumerate(actions) if a.target is not None]
    edits += [(pos, pos, i, text) for i, a in enumerate(actions) if a.target is None
              for pos, text in [_insertion(a, i, actions, reply, src, language, eol) if replaced
                                else (len(src), eol * 2 + _new_text(a, reply, b"", eol))]]  # fmt: skip
    edits += [(m.start, m.end, len(actions) + i, m.text) for i, m in enumerate(module)]
    new = _apply(src, edits)
    if new == src:
        raise _Same("the reply's code is the same as the file's; nothing would change")
    new_tree = parser_for(language).parse(new)
    if new_tree.root_node.has_error and not tree.root_node.has_error:
        raise _Problem(f"the file would no longer parse after the rewrite{_where(first_error(new_tree.root_node))}")
    added = tuple(a.name or a.unit.qualified for a in actions if a.target is None)
    added += tuple(name for m in module if not m.replaces and m.name for name in m.name.split(", "))
    text = new.decode("utf-8", errors="surrogateescape")
    return Rewrite(text, tuple(a.target.qualified for a in replaced if a.target is not None)
                   + tuple(m.name for m in constants), added)


def rewrite_functions(source: str, language: str, code: str) -> Rewrite:
    """Replace each function (or class) defined in code by the same-named one in source, re-indented; insert new ones
    next to the definition they accompany. A reply that cannot be applied gives problem set and the source unchanged."""
    try:
        return _rewrite(source, language, code)
    except _Problem as exc:
        return Rewrite(source, problem=str(exc), elsewhere=isinstance(exc, _Elsewhere), same=isinstance(exc, _Same))
    except Exception as exc:  # a reply this code did not foresee is a discarded candidate, never a crash
        return Rewrite(source, problem=f"the reply could not be applied (internal error: {exc!r})")


class RewriteArgs(ToolArgs):
    path: str = Field(description="Source file to change, relative to the repository root, e.g. 'src/app.py'.")
    code: str = Field(
        description="The corrected function(s), whole: bare code or a reply with markdown code fences.", min_length=1
    )


def rewrite(args: RewriteArgs, ws: Workspace) -> ToolResult:
    check_writable(args.path, ws)
    path = ws.resolve(args.path)
    rel = ws.rel(path)
    lang = language_for(path)
    if lang is None:
        raise ToolError(f"'{rel}' is not a source file rewrite_functions supports")
    before = read_text(path, ws)
    result = rewrite_functions(before, lang, code_from_reply(args.code, lang))
    if result.problem is not None:
        return ToolResult(ok=False, output=f"{rel} unchanged: {result.problem}",
                          data={"path": rel, "elsewhere": result.elsewhere, "same": result.same})
    names = ", ".join([*result.replaced, *(f"{n} (new)" for n in result.added)])
    out = _commit(ws, path, before, result.text, f"Rewrote {names} in {rel}.", changed_lines(before, result.text))
    return out.model_copy(update={"data": {**out.data, "replaced": list(result.replaced), "added": list(result.added)}})


TOOLS = [
    ToolSpec(
        "rewrite_functions",
        "Replace whole functions of a file by name: code holds the corrected function(s) or class(es), bare or in a "
        "markdown fence; each replaces the definition of the same name in path, keeping its indentation, and a new "
        "function given alongside is inserted next to the one it accompanies.",
        RewriteArgs,
        rewrite,
        changes_workspace="on_success",
        reports="edit",
        offered=False,
    ),
]
