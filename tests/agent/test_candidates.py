"""Units of guided repair's candidates: which attempt counts as the best one, and which failure it shows."""

from __future__ import annotations

from coder.agent.candidates import Candidate, Target, better, first_failure

TARGET = Target("calc.py", "python", (("add", "def add(a, b):\n    return a - b"),))


def made(index: int, verdict: str, fixed: int = 0, broken: int = 0, diff_lines: int = 1) -> Candidate:
    return Candidate(index, TARGET, "", verdict=verdict,  # type: ignore[arg-type]
                     fixed=tuple(f"f{i}" for i in range(fixed)), broken=tuple(f"b{i}" for i in range(broken)),
                     diff_lines=diff_lines)


def test_a_near_miss_beats_an_attempt_that_fixes_nothing() -> None:
    nothing, near = made(1, "rejected"), made(2, "rejected", fixed=6, broken=1)
    assert better(nothing, near) is near and better(near, nothing) is near


def test_fixed_less_broken_orders_near_misses_and_accepted_comes_first() -> None:
    wide, narrow = made(1, "rejected", fixed=2, broken=5), made(2, "rejected", fixed=1, broken=0)
    assert better(wide, narrow) is narrow
    partial = made(3, "accepted", fixed=1)
    assert better(made(4, "rejected", fixed=6, broken=1), partial) is partial
    assert better(made(5, "accepted", fixed=1, diff_lines=3), made(6, "accepted", fixed=1, diff_lines=2)).index == 6


def test_the_failure_shown_is_a_broken_tests_first() -> None:
    data: dict[str, object] = {"failures": [{"id": "t::still", "message": "assert 1 == 2"}, {"id": "t::broke", "message": "boom"}]}
    assert first_failure(data, ("t::broke",)) == "t::broke: boom"
    assert first_failure(data) == "t::still: assert 1 == 2"
    assert first_failure({"failures": "garbage"}) == "" and first_failure({}) == ""


def test_a_long_failure_keeps_its_assertion() -> None:
    message = "AssertionError: assert 'Bearer s3cret' not in headers\n +  where " + "{'Accept': 'json'} " * 200 + \
        "\ntests/test_client.py:20: in test_anonymous"
    shown = first_failure({"failures": [{"id": "t::anon", "message": message}]})
    assert shown.startswith("t::anon: AssertionError: assert 'Bearer s3cret' not in headers\n")
    assert shown.endswith("tests/test_client.py:20: in test_anonymous") and len(shown) <= 1500
