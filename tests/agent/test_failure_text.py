"""Failures cut for the prompt keep their head (the assertion) and their tail (the innermost frames)."""

from __future__ import annotations

from coder.agent.failure_text import GAP, trimmed


def test_a_short_failure_is_kept_as_it_is() -> None:
    text = "AssertionError: assert 2 == 3\ntests/test_a.py:4: in test_a"
    assert trimmed(text, 1500) == text


def test_a_long_line_is_cut_and_the_rest_kept() -> None:
    text = "AssertionError: assert 'a' == 'b'\n +  where " + "x" * 1000 + "\ntests/test_a.py:9: in test_a"
    out = trimmed(text, 1500)
    assert out.startswith("AssertionError: assert 'a' == 'b'\n") and out.endswith("tests/test_a.py:9: in test_a")
    assert len(out.splitlines()[1]) <= 200 + 1 + len(GAP)


def test_a_long_failure_keeps_its_first_and_last_lines_within_the_budget() -> None:
    lines = ["AssertionError: assert 1 == 2", *(f"frame {i}: " + "y" * 60 for i in range(100)), "innermost: boom"]
    out = trimmed("\n".join(lines), 600)
    kept = out.splitlines()
    assert kept[0] == lines[0] and kept[-1] == "innermost: boom" and GAP in kept
    assert len(out) <= 600 + 1
    assert kept[kept.index(GAP) - 1] == lines[kept.index(GAP) - 1]  # the head is the first lines, in order
    assert kept[kept.index(GAP) + 1:] == lines[len(lines) - len(kept[kept.index(GAP) + 1:]):]  # the tail, the last
