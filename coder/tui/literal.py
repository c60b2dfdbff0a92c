"""Text from the model or the sandbox as literal Textual markup: control characters visible, brackets escaped.

Textual reads `[bold]`, `[$variable]` and `[@click=app.quit]` in any string given to a Static, a title or a
notification. textual.markup.escape misses `[$x]` and doubles backslashes, so this escapes every `[`; a trailing
backslash would escape the tag that follows it, so it gets a space after it.
"""

from __future__ import annotations

from ..visible import visible, visible_line

__all__ = ["literal", "literal_line"]


def _escape(shown: str) -> str:
    shown = shown.replace("[", "\\[")
    return shown + " " if shown.endswith("\\") else shown


def literal(text: str) -> str:
    """Free text (newlines kept) as markup that shows exactly visible(TEXT)."""
    return _escape(visible(text))


def literal_line(text: str) -> str:
    """A name, path or one-line value as markup that shows exactly visible_line(TEXT)."""
    return _escape(visible_line(text))
