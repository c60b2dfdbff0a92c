"""Which GitHub events start coder, and for which issue: one pure function over the event name and payload."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

__all__ = ["Decision", "TRUSTED_ASSOCIATIONS", "COMMAND", "decide", "issue_text"]

Action = Literal["run", "refuse", "ignore", "invalid"]

TRUSTED_ASSOCIATIONS = frozenset({"OWNER", "MEMBER", "COLLABORATOR"})
COMMAND = "/coder fix"
_COMMAND_RE = re.compile(r"\A\s*/coder\s+fix(?=\s|\Z)(?P<note>.*)\Z", re.DOTALL)


@dataclass(frozen=True)
class Decision:
    """What to do with an event: run the agent on ISSUE, refuse politely, ignore it, or report a bad input.

    ``note`` is text a trusted user wrote after ``/coder fix``; ``actor`` is who asked (for the refusal's greeting).
    """

    action: Action
    issue: int | None
    reason: str
    actor: str = ""
    note: str = ""


def _get(mapping: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(mapping, Mapping):
            return None
        mapping = mapping.get(key)
    return mapping


def _issue_number(payload: Mapping[str, Any]) -> int | None:
    number = _get(payload, "issue", "number")
    return number if isinstance(number, int) and not isinstance(number, bool) and number > 0 else None


def _on_pull_request(payload: Mapping[str, Any]) -> bool:
    return _get(payload, "issue", "pull_request") is not None


def _labeled(payload: Mapping[str, Any], label: str) -> Decision:
    number = _issue_number(payload)
    if payload.get("action") != "labeled":
        return Decision("ignore", number, f"issues event with action {payload.get('action')!r}, not 'labeled'")
    name = _get(payload, "label", "name")
    if not isinstance(name, str) or name.casefold() != label.casefold():
        return Decision("ignore", number, f"label {name!r} is not {label!r}")
    if number is None:
        return Decision("ignore", None, "the event carries no issue number")
    if _on_pull_request(payload):
        return Decision("ignore", number, "labelled a pull request, not an issue")
    if _get(payload, "issue", "state") == "closed":
        return Decision("ignore", number, "the issue is closed")
    return Decision("run", number, f"issue labelled {label!r}", actor=str(_get(payload, "sender", "login") or ""))


def _commented(payload: Mapping[str, Any]) -> Decision:
    number = _issue_number(payload)
    if payload.get("action") != "created":
        return Decision("ignore", number, f"comment event with action {payload.get('action')!r}, not 'created'")
    body = _get(payload, "comment", "body")
    match = _COMMAND_RE.match(body) if isinstance(body, str) else None
    if match is None:
        return Decision("ignore", number, f"the comment does not start with {COMMAND!r}")
    if _get(payload, "comment", "user", "type") == "Bot":
        return Decision("ignore", number, "the comment was written by a bot")
    if number is None:
        return Decision("ignore", None, "the event carries no issue number")
    actor = str(_get(payload, "comment", "user", "login") or "")
    association = str(_get(payload, "comment", "author_association") or "NONE")
    if association not in TRUSTED_ASSOCIATIONS:
        return Decision("refuse", number, f"author association {association} may not start coder", actor=actor)
    if _on_pull_request(payload):
        return Decision("refuse", number, f"{COMMAND} works on issues, not on pull requests", actor=actor)
    return Decision("run", number, f"{COMMAND} from {actor or 'a collaborator'} ({association})", actor=actor,
                    note=match.group("note").strip())


def _dispatched(payload: Mapping[str, Any], issue_input: str | None) -> Decision:
    raw = issue_input if issue_input not in (None, "") else _get(payload, "inputs", "issue")
    text = str(raw).strip().lstrip("#") if raw is not None else ""
    if not text.isdigit() or int(text) <= 0:
        return Decision("invalid", None, f"workflow_dispatch needs an issue number (input 'issue'), got {raw!r}")
    return Decision("run", int(text), "started by hand (workflow_dispatch)",
                    actor=str(_get(payload, "sender", "login") or ""))


def decide(event_name: str, payload: Mapping[str, Any], label: str = "coder", issue_input: str | None = None) -> Decision:
    """The decision for one event: labelled issue, ``/coder fix`` comment from a trusted user, or a manual dispatch.

    Comments from anyone but the repository's owners, members and collaborators are refused (to be answered
    politely, without running a model). ISSUE_INPUT overrides the dispatch payload's ``inputs.issue``.
    """
    if event_name == "issues":
        return _labeled(payload, label)
    if event_name == "issue_comment":
        return _commented(payload)
    if event_name == "workflow_dispatch":
        return _dispatched(payload, issue_input)
    return Decision("ignore", None, f"coder does not handle {event_name!r} events")


def issue_text(title: str, body: str | None, note: str = "") -> str:
    """The task text for the model: the issue's title and body, plus a collaborator's note from the command."""
    text = f"{title.strip()}\n\n{(body or '').strip()}".strip()
    if note:
        text += f"\n\nNote from the maintainer who asked for this fix: {note}"
    return text
