"""A very small subset of Markdown: paragraphs, # headings, *emphasis* and `code`."""

from __future__ import annotations

import html
import re


def _inline(text: str) -> str:
    text = html.escape(text, quote=False)
    text = re.sub(r"`([^`]+)`", r"<code>\1</code>", text)
    return re.sub(r"\*([^*]+)\*", r"<em>\1</em>", text)


def render(source: str) -> str:
    """HTML for SOURCE, one block per blank-line separated chunk."""
    blocks = []
    for chunk in re.split(r"\n\s*\n", source.strip()):
        if not chunk:
            continue
        heading = re.match(r"(#{1,6})\s+(.*)", chunk)
        if heading:
            level = len(heading.group(1))
            blocks.append(f"<h{level}>{_inline(heading.group(2).strip())}</h{level}>")
        else:
            blocks.append(f"<p>{_inline(' '.join(chunk.split()))}</p>")
    return "\n".join(blocks)
