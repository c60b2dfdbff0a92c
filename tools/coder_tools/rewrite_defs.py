"""For rewrite_functions: a file's functions and classes (spans, nesting, wrappers, comments) and new text's layout."""

from __future__ import annotations

from dataclasses import dataclass, field

from tree_sitter import Node, Tree

from .treesitter import CONTAINER_KINDS, SCOPE_SEP, Tag, extract_tags

FUNCTION_KINDS = frozenset({"function", "method", "macro"})
# Tagged definitions without a body (declarations and signatures): never replaced, never a match.
SIGNATURE_TYPES = frozenset({
    "field_declaration", "declaration", "method_signature", "abstract_method_signature", "function_signature",
    "function_signature_item", "method_elem",
})  # fmt: skip
# Nodes that wrap one definition and belong to it: decorators, export, template<...>, 'obj.f = ...;', 'type T ...'.
WRAPPER_TYPES = frozenset({
    "decorated_definition", "export_statement", "template_declaration", "expression_statement", "type_declaration",
})  # fmt: skip
SINGLE_CHILD_WRAPPERS = frozenset({"expression_statement", "type_declaration"})
COMMENT_TYPES = frozenset({"comment", "line_comment", "block_comment"})
ATTRIBUTE_TYPES = frozenset({"attribute_item", "decorator"})  # Rust #[...] and TypeScript member decorators
PARAM_TYPES = frozenset({"parameters", "formal_parameters", "parameter_list"})


@dataclass(eq=False)
class Definition:
    """A function, method, macro or container (class, struct, impl, ...) found by the tag query."""

    name: str
    kind: str
    node: Node  # the tag's whole definition (without wrappers)
    owner: str | None  # the qualifier written at the definition: Go receiver type, C++ 'Type::'
    sep: str  # how qualified names are written in this language
    parent: Definition | None = None  # the innermost enclosing function or container
    children: list[Definition] = field(default_factory=list)  # functions and containers directly inside
    child_names: set[str] = field(default_factory=set)  # every definition directly inside, any kind

    @property
    def is_container(self) -> bool:
        return self.kind in CONTAINER_KINDS

    @property
    def is_function(self) -> bool:
        return self.kind in FUNCTION_KINDS

    @property
    def members(self) -> list[Definition]:
        return [c for c in self.children if c.is_function]

    @property
    def container(self) -> str | None:
        """The class/impl/struct this definition belongs to: the enclosing one, else the written qualifier."""
        if self.parent is not None and self.parent.is_container:
            return self.parent.name
        return self.owner

    @property
    def qualified(self) -> str:
        return f"{self.container}{self.sep}{self.name}" if self.container else self.name

    @property
    def line(self) -> int:
        return int(self.node.start_point.row) + 1

    @property
    def in_function(self) -> bool:
        return self.parent is not None and self.parent.is_function

    def outermost(self) -> Definition:
        top = self
        while top.parent is not None:
            top = top.parent
        return top

    def params(self) -> str:
        """The parameter list's text without whitespace (tells overloads and same-named methods apart)."""
        p = params_node(self.node)
        return "".join((p.text or b"").decode("utf-8", errors="replace").split()) if p is not None else ""


def params_node(node: Node) -> Node | None:
    """The parameter list of a function definition (Go: not the receiver; C/C++: inside the declarator)."""
    todo = [node]
    for _ in range(6):
        if not todo:
            return None
        current, todo = todo[0], todo[1:]
        direct = current.child_by_field_name("parameters")
        if direct is not None:
            return direct
        for child in current.named_children:
            if child.type in PARAM_TYPES:
                return child
        todo.extend(c for c in current.named_children if c.type != "block" and "body" not in c.type)
    return None


def _node_for(root: Node, tag: Tag) -> Node | None:
    """The node of a tag's whole definition, found from its name upwards."""
    node: Node | None = root.descendant_for_byte_range(tag.name_byte, tag.name_byte + 1)
    while node is not None and (node.start_byte, node.end_byte) != tag.span:
        if node.start_byte < tag.span[0] or node.end_byte > tag.span[1]:
            return None
        node = node.parent
    return node


def definitions(tree: Tree, lang: str) -> list[Definition]:
    """Functions (with a body), macros and containers of a tree, in source order, with their nesting resolved."""
    root = tree.root_node
    found: list[Definition] = []
    stack: list[tuple[Definition, int]] = []
    for tag in extract_tags(tree, lang):
        if not tag.is_definition:
            break  # extract_tags lists every definition before the references
        while stack and stack[-1][1] <= tag.span[0]:
            stack.pop()
        enclosing = stack[-1][0] if stack else None
        if enclosing is not None and enclosing.is_container:
            enclosing.child_names.add(tag.name)
        if tag.kind not in FUNCTION_KINDS and tag.kind not in CONTAINER_KINDS:
            continue
        node = _node_for(root, tag)
        if node is None or node.type in SIGNATURE_TYPES:
            continue
        kind = "function" if tag.kind == "method" else tag.kind  # nesting, not the tag, says what is a method
        d = Definition(tag.name, kind, node, tag.owner, SCOPE_SEP.get(lang, "."), parent=enclosing)
        if enclosing is not None:
            enclosing.children.append(d)
        found.append(d)
        stack.append((d, tag.span[1]))
    return found


def expand(node: Node, allowed: frozenset[str] = WRAPPER_TYPES) -> tuple[Node, frozenset[str]]:
    """The node with the wrappers around it that it alone fills (only those of the allowed types), and their types."""
    types: set[str] = set()
    while True:
        parent = node.parent
        if parent is None or parent.type not in allowed or parent.type not in WRAPPER_TYPES:
            break
        named = parent.named_children
        if not named or named[-1] != node:
            break
        if parent.type in SINGLE_CHILD_WRAPPERS and len(named) != 1:
            break
        types.add(parent.type)
        node = parent
    return node, frozenset(types)


def leading(node: Node, source: bytes) -> tuple[int, bool]:
    """Where the comments and attributes attached right above node start (node's start when none), and whether
    there is an attribute or decorator among them."""
    start, has_attr = node.start_byte, False
    current = node
    sib = node.prev_named_sibling
    while sib is not None and (sib.type in COMMENT_TYPES or sib.type in ATTRIBUTE_TYPES):
        gap = source[sib.end_byte : current.start_byte]
        if gap.strip() or gap.count(b"\n") > 1:
            break  # a blank line (or code) between: not attached
        before = sib.prev_sibling
        if before is not None and before.end_point.row == sib.start_point.row and sib.type in COMMENT_TYPES:
            break  # a trailing comment of the statement before
        start, has_attr, current = sib.start_byte, has_attr or sib.type in ATTRIBUTE_TYPES, sib
        sib = sib.prev_named_sibling
    return start, has_attr


def line_start(source: bytes, pos: int) -> int:
    return source.rfind(b"\n", 0, pos) + 1


def indent_at(source: bytes, pos: int) -> bytes:
    """The indentation of the line pos is on (its leading spaces and tabs)."""
    start = line_start(source, pos)
    end = start
    while end < len(source) and source[end : end + 1] in (b" ", b"\t"):
        end += 1
    return source[start:end]


def first_error(node: Node) -> Node | None:
    """The first ERROR or MISSING node under node, in source order."""
    todo = [node]
    while todo:
        n = todo.pop()
        if n.is_error or n.is_missing:
            return n
        todo.extend(reversed([c for c in n.children if c.has_error or c.is_missing]))
    return None


def eol_of(text: bytes) -> bytes:
    """The file's line ending: CRLF when most lines end so."""
    return b"\r\n" if text.count(b"\r\n") * 2 > text.count(b"\n") else b"\n"


def reindent(block: bytes, prefix: bytes, indent: bytes, eol: bytes) -> bytes:
    """A block whose first line starts after prefix (its indentation in the reply) re-indented to indent."""
    lines = block.split(b"\n")
    out = [lines[0]]
    for line in lines[1:]:
        if not line.strip():
            out.append(b"")
        elif line.startswith(prefix):
            out.append(indent + line[len(prefix) :])
        else:
            out.append(line)  # less indented than the definition (text inside a string): left alone
    return eol.join(out)


def declarator_name(node: Node) -> Node | None:
    """The name node of a C/C++ function definition's declarator."""
    current: Node | None = node.child_by_field_name("declarator")
    while current is not None and current.type not in ("identifier", "field_identifier", "qualified_identifier"):
        current = current.child_by_field_name("declarator") or next(iter(current.named_children), None)
    return current


def written_scope(target: Definition, unit: Definition) -> bytes:
    """The 'Type::' of an out-of-line C++ method that the reply wrote without it."""
    if unit.owner is not None or target.owner is None:
        return b""
    name = declarator_name(target.node)
    scope = name.child_by_field_name("scope") if name is not None and name.type == "qualified_identifier" else None
    return (scope.text or b"") + b"::" if scope is not None else b""


def blank_lines(source: bytes, pos: int, after: bool, lang: str, indent: bytes) -> int:
    """How many blank lines to put between an inserted definition and its neighbour (the file's habit there)."""
    if after:
        rest = source[pos:]
        gap = rest[: len(rest) - len(rest.lstrip())]
    else:
        head = source[:pos]
        gap = head[len(head.rstrip()) :]
    n = gap.count(b"\n")
    if n == 0 or (after and pos + len(gap) >= len(source)):
        return 2 if lang == "python" and not indent else 1
    return min(max(n - 1, 1), 2)


def changed_lines(before: str, after: str) -> tuple[int, int]:
    """The first and last line of after that differ from before (1-based)."""
    a, b = before.split("\n"), after.split("\n")
    top = 0
    while top < min(len(a), len(b)) and a[top] == b[top]:
        top += 1
    bottom = 0
    while bottom < min(len(a), len(b)) - top and a[-1 - bottom] == b[-1 - bottom]:
        bottom += 1
    return top + 1, max(top + 1, len(b) - bottom)
