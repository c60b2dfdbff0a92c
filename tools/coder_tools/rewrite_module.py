"""rewrite_functions' module-level statements: a reply's top-level constants replace the file's of the same name (or
are added), and its imports the file lacks are added after the file's own (Python, JavaScript/TypeScript, Go
constants)."""

from __future__ import annotations

from dataclasses import dataclass

from tree_sitter import Node

from .treesitter import parser_for

_IMPORTS: dict[str, frozenset[str]] = {
    "python": frozenset({"import_statement", "import_from_statement"}),
    "javascript": frozenset({"import_statement"}),
    "typescript": frozenset({"import_statement"}),
    "tsx": frozenset({"import_statement"}),
}
_LEADING: dict[str, frozenset[str]] = {  # what stays above added imports when a file has none
    "python": frozenset({"future_import_statement", "comment"}),
}
_JS = frozenset({"javascript", "typescript", "tsx"})
_NOT_CONSTANT = frozenset({"arrow_function", "function_expression", "function", "class", "generator_function"})


@dataclass(frozen=True)
class ModuleEdit:
    """One edit of the file's top level: (start, end) bytes replaced by text; name: the constant, '' for an import."""

    start: int
    end: int
    text: bytes
    name: str = ""
    replaces: bool = False


def _inner(node: Node) -> Node:
    """A statement's content: Python's expression_statement and JavaScript's export wrap the assignment."""
    while node.type in ("expression_statement", "export_statement") and len(node.named_children) == 1:
        node = node.named_children[0]
    return node


def constant_name(node: Node, lang: str) -> str | None:
    """The name a top-level statement binds when it is a plain constant: `NAME = value` (Python), `const NAME =
    value` (JavaScript, not a function), `const name = value` (Go, one spec); None otherwise."""
    inner = _inner(node)
    if lang == "python" and inner.type == "assignment":
        left = inner.child_by_field_name("left")
        right = inner.child_by_field_name("right")
        if left is not None and left.type == "identifier" and (right is None or right.type != "assignment"):
            return (left.text or b"").decode("utf-8", errors="replace")
    if lang in _JS and inner.type in ("lexical_declaration", "variable_declaration") and len(inner.named_children) == 1:
        declarator = inner.named_children[0]
        name, value = declarator.child_by_field_name("name"), declarator.child_by_field_name("value")
        if name is not None and name.type == "identifier" and (value is None or value.type not in _NOT_CONSTANT):
            return (name.text or b"").decode("utf-8", errors="replace")
    if lang == "go" and inner.type in ("const_declaration", "var_declaration"):
        specs = [c for c in inner.named_children if c.type in ("const_spec", "var_spec")]
        names = [c for c in specs[0].named_children if c.type == "identifier"] if len(specs) == 1 else []
        if len(names) == 1:
            return (names[0].text or b"").decode("utf-8", errors="replace")
    return None


def _squashed(node: Node) -> bytes:
    return b" ".join((node.text or b"").split())


def _js_source(node: Node) -> bytes | None:
    found = node.child_by_field_name("source")
    return found.text if found is not None else None


def _new_import(node: Node, existing: list[Node], lang: str) -> bool:
    """Whether an import of the reply is one the file lacks. JavaScript: only a module not imported yet (a second
    import of the same module could bind a name twice)."""
    if lang in _JS:
        return _js_source(node) not in {_js_source(e) for e in existing}
    return _squashed(node) not in {_squashed(e) for e in existing}


def _import_point(root: Node, imports: list[Node], lang: str) -> tuple[int, bool]:
    """Where added imports go: after the file's last top-level import, else after a module docstring and leading
    comments or future imports, else at the very top. (byte offset, whether the text goes after a statement)"""
    if imports:
        return imports[-1].end_byte, True
    after: Node | None = None
    for i, child in enumerate(root.children):
        docstring = lang == "python" and i == 0 and _inner(child).type == "string"
        if docstring or child.type in _LEADING.get(lang, frozenset()):
            after = child
            continue
        break
    return (after.end_byte, True) if after is not None else (0, False)


def module_edits(reply: bytes, source: bytes, source_root: Node, lang: str, eol: bytes) -> list[ModuleEdit]:
    """The edits of the file's top level that a reply's top-level constants and imports make (none for a reply
    that does not parse by itself, such as a method given alone)."""
    tree = parser_for(lang).parse(reply)
    if tree.root_node.has_error:
        return []
    file_constants: dict[str, Node] = {}
    for child in source_root.children:
        name = constant_name(child, lang)
        if name is not None:
            file_constants.setdefault(name, child)
    file_imports = [c for c in source_root.children if c.type in _IMPORTS.get(lang, frozenset())]
    edits: list[ModuleEdit] = []
    for child in tree.root_node.children:
        name = constant_name(child, lang)
        text = reply[child.start_byte : child.end_byte]
        if name is not None:
            target = file_constants.get(name)
            if target is not None and _squashed(_inner(target)) != _squashed(_inner(child)):
                # the declarations alone: an `export` the file has stays, one the reply adds is left out
                inner, new = _inner(target), _inner(child)
                edits.append(ModuleEdit(inner.start_byte, inner.end_byte, reply[new.start_byte : new.end_byte], name,
                                        replaces=True))
            elif target is None:
                edits.append(ModuleEdit(-1, -1, text, name))  # placed below
        elif child.type in _IMPORTS.get(lang, frozenset()) and _new_import(child, file_imports, lang):
            edits.append(ModuleEdit(-1, -1, text))
    imports = [e.text for e in edits if e.start < 0 and not e.name]
    constants = [e.text for e in edits if e.start < 0 and e.name]
    if not imports and not constants:
        return edits
    at, after = _import_point(source_root, file_imports, lang)
    block = eol.join(imports + ([b""] if imports and constants else []) + constants)
    text = eol + block if after else block + eol + (eol if source[:1].strip() else b"")
    placed = ModuleEdit(at, at, text, ", ".join(e.name for e in edits if e.start < 0 and e.name))
    return [e for e in edits if e.start >= 0] + [placed]
