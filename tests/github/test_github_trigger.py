"""The trigger policy: which events start coder, which are refused politely and which are ignored."""

from __future__ import annotations

from typing import Any

import pytest

from coder.github.trigger import decide, issue_text


def labelled(label: str = "coder", **issue: Any) -> dict[str, Any]:
    return {"action": "labeled", "label": {"name": label}, "sender": {"login": "lead"},
            "issue": {"number": 3, "title": "t", "body": "b", "state": "open", **issue}}


def commented(body: str, association: str = "MEMBER", user_type: str = "User", **issue: Any) -> dict[str, Any]:
    return {"action": "created", "issue": {"number": 3, "title": "t", "body": "b", **issue},
            "comment": {"body": body, "author_association": association, "user": {"login": "ann", "type": user_type}}}


@pytest.mark.parametrize("event,payload,label,expected", [
    ("issues", labelled(), "coder", ("run", 3)),
    ("issues", labelled("Coder"), "coder", ("run", 3)),  # GitHub label names are case-insensitive
    ("issues", labelled("fix-me"), "fix-me", ("run", 3)),
    ("issues", labelled("bug"), "coder", ("ignore", 3)),
    ("issues", {**labelled(), "action": "opened"}, "coder", ("ignore", 3)),
    ("issues", labelled(state="closed"), "coder", ("ignore", 3)),
    ("issues", labelled(pull_request={"url": "x"}), "coder", ("ignore", 3)),
    ("issues", {"action": "labeled", "label": {"name": "coder"}}, "coder", ("ignore", None)),
    ("issue_comment", commented("/coder fix"), "coder", ("run", 3)),
    ("issue_comment", commented("  /coder   fix\nuse the csv module"), "coder", ("run", 3)),
    ("issue_comment", commented("/coder fix", "OWNER"), "coder", ("run", 3)),
    ("issue_comment", commented("/coder fix", "COLLABORATOR"), "coder", ("run", 3)),
    ("issue_comment", commented("/coder fix", "CONTRIBUTOR"), "coder", ("refuse", 3)),
    ("issue_comment", commented("/coder fix", "FIRST_TIME_CONTRIBUTOR"), "coder", ("refuse", 3)),
    ("issue_comment", commented("/coder fix", "NONE"), "coder", ("refuse", 3)),
    ("issue_comment", {**commented("/coder fix"), "comment": {"body": "/coder fix"}}, "coder", ("refuse", 3)),
    ("issue_comment", commented("/coder fix", pull_request={"url": "x"}), "coder", ("refuse", 3)),
    ("issue_comment", commented("/coder fix", "NONE", user_type="Bot"), "coder", ("ignore", 3)),
    ("issue_comment", commented("/coder fixes it"), "coder", ("ignore", 3)),
    ("issue_comment", commented("please /coder fix"), "coder", ("ignore", 3)),
    ("issue_comment", commented("/coder"), "coder", ("ignore", 3)),
    ("issue_comment", {**commented("/coder fix"), "action": "edited"}, "coder", ("ignore", 3)),
    ("workflow_dispatch", {"inputs": {"issue": "12"}}, "coder", ("run", 12)),
    ("workflow_dispatch", {"inputs": {"issue": "#12"}}, "coder", ("run", 12)),
    ("workflow_dispatch", {"inputs": {"issue": "twelve"}}, "coder", ("invalid", None)),
    ("workflow_dispatch", {"inputs": {}}, "coder", ("invalid", None)),
    ("workflow_dispatch", {"inputs": {"issue": "0"}}, "coder", ("invalid", None)),
    ("push", {}, "coder", ("ignore", None)),
    ("pull_request_target", labelled(), "coder", ("ignore", None)),
])
def test_decide(event: str, payload: dict[str, Any], label: str, expected: tuple[str, int | None]) -> None:
    decision = decide(event, payload, label)
    assert (decision.action, decision.issue) == expected, decision.reason
    assert decision.reason


def test_refusal_names_who_asked_and_why() -> None:
    decision = decide("issue_comment", commented("/coder fix", "NONE"))
    assert decision.actor == "ann" and "NONE" in decision.reason


def test_trusted_comment_keeps_the_note_after_the_command() -> None:
    decision = decide("issue_comment", commented("/coder fix\nthe bug is in parse()"))
    assert decision.note == "the bug is in parse()" and decision.actor == "ann"


def test_dispatch_issue_input_overrides_the_payload() -> None:
    assert decide("workflow_dispatch", {"inputs": {"issue": "4"}}, issue_input="9").issue == 9
    assert decide("workflow_dispatch", {"inputs": {"issue": "4"}}, issue_input="").issue == 4


def test_issue_text_is_title_body_and_note() -> None:
    assert issue_text(" Crash ", "details\n", "") == "Crash\n\ndetails"
    assert issue_text("Crash", None, "look at x") == "Crash\n\nNote from the maintainer who asked for this fix: look at x"
