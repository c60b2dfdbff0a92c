"""A test failure cut to fit a small model's prompt, keeping what says most: its first lines (the assertion, expected
against actual) and its last (the innermost frames)."""

from __future__ import annotations

LINE_CHARS = 200  # pytest's "+  where ..." explanations repeat whole objects on one line
GAP = "..."


def trimmed(text: str, budget: int, line_chars: int = LINE_CHARS) -> str:
    """TEXT in at most about BUDGET characters: each line cut to LINE_CHARS, then, when still too long, lines dropped
    from the middle (marked with a line of GAP), a third of the budget for the head and the rest for the tail."""
    lines = [line if len(line) <= line_chars else line[:line_chars] + " " + GAP for line in text.splitlines()]
    if sum(len(line) + 1 for line in lines) <= budget:
        return "\n".join(lines)
    head: list[str] = []
    used = len(GAP) + 1
    for line in lines:  # the first line always: it says what failed
        if head and used + len(line) + 1 > budget // 3:
            break
        head.append(line)
        used += len(line) + 1
    tail: list[str] = []
    for line in reversed(lines[len(head):]):
        if used + len(line) + 1 > budget:
            break
        tail.append(line)
        used += len(line) + 1
    return "\n".join([*head, GAP, *reversed(tail)])
