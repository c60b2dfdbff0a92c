"""The functions and classes of a parsed file for rewrite_functions: spans, nesting, wrappers and leading comments."""

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
