"""A GBNF grammar (llama.cpp) for a repair reply: a short diagnosis, then exactly one fenced code block, closed."""

from __future__ import annotations

__all__ = ["fenced_code_grammar", "DEFAULT_MAX_PROSE_CHARS"]

DEFAULT_MAX_PROSE_CHARS = 600

# Prose and code may hold backticks, but never three in a row where a fence could start: in prose nowhere, in code
# not at the start of a line (that closes the block). A backtick must be followed by another character.
_PROSE_CHAR = r'[^`] | "`" [^`] | "``" [^`]'
_LINE_START = r'[^`\n] | "`" [^`\n] | "``" [^`\n]'


def fenced_code_grammar(max_prose_chars: int = DEFAULT_MAX_PROSE_CHARS, max_code_lines: int | None = None,
                        max_line_chars: int | None = None) -> str:
    """GBNF for: at most MAX_PROSE_CHARS of text with no ``` (the diagnosis; none at all is fine), then one block
    ```<language tag>\\n<code lines>``` and nothing after it, so the reply always holds code and ends where the code
    does. A small model otherwise often stops after its diagnosis, which costs another request. MAX_CODE_LINES and
    MAX_LINE_CHARS bound the block (None: unbounded; the request's max_tokens still ends it, unclosed)."""
    if max_prose_chars < 0:
        raise ValueError("max_prose_chars must be 0 or more")
    rest = "[^\\n]*" if max_line_chars is None else f"[^\\n]{{0,{max(max_line_chars - 1, 0)}}}"
    lines = "code-line*" if max_code_lines is None else f"code-line{{0,{max_code_lines}}}"
    rules = {
        "root": ('(prose "\\n")? ' if max_prose_chars else "") + '"```" lang "\\n" code "```"',
        "prose": f"prose-char{{1,{max_prose_chars}}}" if max_prose_chars else None,
        "prose-char": _PROSE_CHAR if max_prose_chars else None,
        "lang": "[a-zA-Z0-9_+#.-]{0,20}",
        "code": lines,
        "code-line": f'(line-start {rest})? "\\n"',
        "line-start": _LINE_START,
    }
    return "\n".join(f"{name} ::= {body}" for name, body in rules.items() if body) + "\n"
