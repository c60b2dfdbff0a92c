"""Tree-sitter support for the navigation tools: languages by extension, tag queries, and a warm parse cache."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from tree_sitter import Node, Parser, Query, QueryCursor, Tree
from tree_sitter_language_pack import get_language, get_parser

from . import gitrun
from .base import MAX_FILE_BYTES, ToolError, Workspace, is_binary

QUERY_DIR = Path(__file__).parent / "queries"

LANGUAGE_BY_EXT: dict[str, str] = {
    ".py": "python", ".pyi": "python",
    ".js": "javascript", ".jsx": "javascript", ".mjs": "javascript", ".cjs": "javascript",
    ".ts": "typescript", ".mts": "typescript", ".cts": "typescript", ".tsx": "tsx",
    ".go": "go",
    ".rs": "rust",
    ".java": "java",
    ".c": "c",
    # .h goes to the C++ grammar: it parses plain C headers too, while the C grammar chokes on classes.
    ".h": "cpp", ".cc": "cpp", ".cpp": "cpp", ".cxx": "cpp", ".c++": "cpp", ".hh": "cpp", ".hpp": "cpp", ".hxx": "cpp",
}  # fmt: skip
QUERY_FILE: dict[str, str] = {"tsx": "typescript"}  # languages that share another language's .scm
LANGUAGES: tuple[str, ...] = tuple(dict.fromkeys(LANGUAGE_BY_EXT.values()))
SCOPE_SEP: dict[str, str] = {"cpp": "::", "rust": "::"}  # how qualified names are written
CONTAINER_KINDS = frozenset({"class", "struct", "interface", "trait", "impl", "enum", "union"})
CACHE_KEY = "navigation.parse_cache"
SKIP_DIRS = frozenset({".git", "node_modules", "__pycache__", ".venv", "venv", "target", "dist", "build"})


def language_for(path: Path) -> str | None:
    """The tree-sitter language name for a file, by extension, or None when unsupported."""
    return LANGUAGE_BY_EXT.get(path.suffix.lower())


def supported_extensions() -> str:
    return " ".join(sorted(LANGUAGE_BY_EXT))


def query_path(lang: str) -> Path:
    return QUERY_DIR / f"{QUERY_FILE.get(lang, lang)}-tags.scm"


@cache
def parser_for(lang: str) -> Parser:
    return get_parser(lang)  # type: ignore[arg-type]


@cache
def tag_query(lang: str) -> Query:
    """The compiled tag query for a language (compiled once per process)."""
    return Query(get_language(lang), query_path(lang).read_text(encoding="utf-8"))  # type: ignore[arg-type]


@dataclass(slots=True)
class Tag:
    """One definition or reference found by a tag query."""

    name: str
    kind: str  # function, method, class, struct, ... (definitions); call, class, ... (references)
    is_definition: bool
    line: int  # 1-based first line of the whole definition (or of the reference's name)
    end_line: int
    name_byte: int  # start byte of the name node
    span: tuple[int, int]  # byte range of the whole definition, for containment
    owner: str | None = None  # explicit qualifier: Go receiver type, C++ 'Type::' scope
    parent: str | None = None  # name of the enclosing definition
    depth: int = 0

    @property
    def container(self) -> str | None:
        return self.owner or self.parent


@dataclass
class ParsedFile:
    """A source file's bytes with its tree and tags, computed lazily and kept while the file is unchanged."""

    path: Path
    lang: str
    source: bytes
    tree: Tree | None = None
    tags: list[Tag] | None = None
    _lines: list[str] | None = field(default=None, repr=False)

    def line(self, number: int) -> str:
        """Text of a 1-based line (tree-sitter rows split on \\n only)."""
        if self._lines is None:
            self._lines = [ln.decode("utf-8", errors="replace").rstrip("\r") for ln in self.source.split(b"\n")]
        return self._lines[number - 1] if 0 < number <= len(self._lines) else ""

    def qualified(self, tag: Tag) -> str:
        owner = tag.container
        return f"{owner}{SCOPE_SEP.get(self.lang, '.')}{tag.name}" if owner else tag.name


class ParseCache:
    """Parsed files keyed by path and (mtime_ns, size); `parses` counts real tree-sitter parses."""

    def __init__(self) -> None:
        self.files: dict[Path, tuple[tuple[int, int], ParsedFile]] = {}
        self.parses = 0

    def load(self, path: Path, ws: Workspace) -> ParsedFile:
        """The cached entry for a file, re-read when it changed; ToolError if unsupported, binary or huge."""
        lang = language_for(path)
        if lang is None:
            raise ToolError(
                f"'{ws.rel(path)}' is not a supported source file; supported extensions: {supported_extensions()}. "
                "Use view or grep for other files."
            )
        try:
            st = path.stat()
        except OSError as exc:
            raise ToolError(f"cannot read '{ws.rel(path)}': {exc.strerror}") from exc
        key = (st.st_mtime_ns, st.st_size)
        hit = self.files.get(path)
        if hit is not None and hit[0] == key:
            return hit[1]
        if st.st_size > MAX_FILE_BYTES:
            raise ToolError(f"'{ws.rel(path)}' is {st.st_size} bytes, over the {MAX_FILE_BYTES}-byte limit")
        data = path.read_bytes()
        if is_binary(data):
            raise ToolError(f"'{ws.rel(path)}' is a binary file")
        entry = ParsedFile(path, lang, data)
        self.files[path] = (key, entry)
        return entry

    def tree(self, pf: ParsedFile) -> Tree:
        if pf.tree is None:
            pf.tree = parser_for(pf.lang).parse(pf.source)
            self.parses += 1
        return pf.tree

    def tags(self, pf: ParsedFile) -> list[Tag]:
        if pf.tags is None:
            pf.tags = extract_tags(self.tree(pf), pf.lang)
        return pf.tags


def parse_cache(ws: Workspace) -> ParseCache:
    """The workspace's warm parse cache (created on first use)."""
    cache = ws.state.get(CACHE_KEY)
    if not isinstance(cache, ParseCache):
        cache = ws.state[CACHE_KEY] = ParseCache()
    return cache


def _text(node: Node) -> str:
    return (node.text or b"").decode("utf-8", errors="replace")


def _owner(name: Node, outer: Node, lang: str) -> str | None:
    """An explicit qualifier written at the definition: Go method receivers, C++ out-of-line Type::name."""
    if lang == "go" and outer.type == "method_declaration":
        receiver = outer.child_by_field_name("receiver")
        m = re.search(r"(\w+)\s*(?:\[[^\]]*\])?\s*\)\s*$", _text(receiver)) if receiver else None
        return m.group(1) if m else None
    parent = name.parent
    if lang == "cpp" and parent is not None and parent.type == "qualified_identifier":
        scope = parent.child_by_field_name("scope")
        return re.sub(r"<.*>", "", _text(scope)) if scope is not None else None
    return None


def extract_tags(tree: Tree, lang: str) -> list[Tag]:
    """Definitions (with nesting and containers resolved) followed by references, from the tag query."""
    defs: dict[int, Tag] = {}
    refs: dict[int, Tag] = {}
    for _, captures in QueryCursor(tag_query(lang)).matches(tree.root_node):
        for cap, nodes in captures.items():
            if not cap.startswith("name."):
                continue
            _, role, kind = cap.split(".", 2)
            outer_nodes = captures.get(f"{role}.{kind}")
            for node in nodes:
                is_def = role == "definition"
                outer = outer_nodes[0] if outer_nodes and is_def else node
                tag = Tag(
                    name=_text(node),
                    kind=kind,
                    is_definition=is_def,
                    line=outer.start_point.row + 1,
                    end_line=max(outer.start_point.row, outer.end_point.row - (outer.end_point.column == 0)) + 1,
                    name_byte=node.start_byte,
                    span=(outer.start_byte, outer.end_byte),
                    owner=_owner(node, outer, lang) if is_def else None,
                )
                table = defs if is_def else refs
                old = table.get(node.start_byte)
                if old is None or old.kind == "type":  # keep the more specific kind (Go: struct over type)
                    table[node.start_byte] = tag
    ordered = sorted(defs.values(), key=lambda t: (t.span[0], -t.span[1]))
    stack: list[Tag] = []
    for tag in ordered:
        while stack and stack[-1].span[1] <= tag.span[0]:
            stack.pop()
        if stack:
            tag.parent, tag.depth = stack[-1].name, len(stack)
            if tag.kind == "function" and stack[-1].kind in CONTAINER_KINDS:
                tag.kind = "method"
        stack.append(tag)
    return ordered + sorted(refs.values(), key=lambda t: t.name_byte)


def identifier_sites(tree: Tree, source: bytes, name: str) -> Iterator[Node]:
    """Identifier-like nodes spelled exactly `name` (skips strings and comments)."""
    pattern = re.compile(rb"(?<![\w$])" + re.escape(name.encode("utf-8")) + rb"(?![\w$])")
    root = tree.root_node
    for m in pattern.finditer(source):
        node = root.descendant_for_byte_range(m.start(), m.end())
        if node is not None and "identifier" in node.type and (node.start_byte, node.end_byte) == m.span():
            yield node


def source_files(ws: Workspace, target: Path) -> list[Path]:
    """Supported source files at or under target: git's tracked + untracked-not-ignored list, else a walk."""
    if target.is_file():
        return [target]
    try:  # the server's own git: immune to config, hooks and fsmonitor planted in the workspace (gitrun)
        out = gitrun.run(ws.root, "ls-files", "-co", "--exclude-standard", "-z", "--", f":(literal){ws.rel(target)}")
        names = [ws.root / n for n in out.decode("utf-8", errors="surrogateescape").split("\0") if n]
    except (OSError, gitrun.GitError):
        names = []
    if not names:  # not a git repo, or everything under target is ignored and was asked for by name
        for dirpath, dirnames, filenames in os.walk(target):
            dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS and not d.startswith("."))
            names.extend(Path(dirpath) / f for f in filenames)
    return sorted(
        {p for p in names if p.suffix.lower() in LANGUAGE_BY_EXT and not p.is_symlink() and p.is_file()}
    )
