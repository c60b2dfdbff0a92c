"""What guided repair shows the model: the ranked functions (localize), the failing tests' source and their failure."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from coder_tools.risk import is_test_path
from coder_tools.treesitter import language_for

from ..config import Config
from ..models.base import Message
from ..prompts import render
from ..sandboxes.base import SandboxSession
from .candidates import Candidate, Target
from .failure_text import trimmed

FAILURE_CHARS = 1500  # the end of a failure: the assertion, expected against actual, the last frames
TEST_CHARS = 2500  # a failing test's source, cut when longer
MAX_LOOKUPS = 20  # failing test ids looked up for the tests to show


@dataclass(frozen=True)
class Ranked:
    """A function localize ranked, with its source."""

    path: str
    name: str
    text: str
    score: float


@dataclass
class RepairContext:
    """Everything the prompts are built from, gathered once per turn."""

    issue: str
    failing: tuple[str, ...]
    failure: str
    tests: list[dict[str, str]]  # {path, language, text}
    ranked: list[Ranked]
    notes: str  # what localize said about how it ranked
    callers: list[Ranked] = field(default_factory=list)  # functions that call the top-ranked one (the last widening)
    files: dict[str, str] = field(default_factory=dict)  # ranked functions' files short enough to show whole

    def targets(self, most: int) -> list[Target]:
        """The prompts' function sets, widening: the top function alone, then the top ones of its file, then the
        whole file when it is short (constants, attributes and constructors next to the functions), then the same
        for the next file that holds a ranked function, then each caller of the top function."""
        files: list[str] = []
        for r in self.ranked:
            if r.path not in files:
                files.append(r.path)
        plans: list[Target] = []
        for path in files:
            in_file = [r for r in self.ranked if r.path == path]
            language = language_of(path)
            for count in sorted({1, min(most, len(in_file))}):
                plans.append(Target(path, language, tuple((r.name, r.text) for r in in_file[:count])))
            whole = self.files.get(path, "")
            if whole and _squashed(whole) != _squashed("\n".join(r.text for r in in_file[:most])):
                plans.append(Target(path, language, tuple((r.name, r.text) for r in in_file), whole))
        shown = {(r.path, r.name) for r in self.ranked}
        plans += [Target(c.path, language_of(c.path), ((c.name, c.text),)) for c in self.callers
                  if (c.path, c.name) not in shown]
        return plans


def _squashed(text: str) -> str:
    return " ".join(text.split())


def language_of(path: str) -> str:
    return language_for(Path(path)) or ""


def failing_tests(sandbox: SandboxSession, failing: Sequence[str], most: int = 2) -> list[dict[str, str]]:
    """The source of up to MOST distinct failing tests, found from the runner's ids (pytest, node, go): parametrized
    cases and Go subtests of one test function show it once."""
    tests: list[dict[str, str]] = []
    for test_id in failing[:MAX_LOOKUPS]:
        found = sandbox.call("test_source", {"test_id": test_id})
        path, text = str(found.data.get("path", "")), str(found.data.get("text", ""))
        if not found.ok or not text or any(t["path"] == path and t["text"] == text[:TEST_CHARS] for t in tests):
            continue
        tests.append({"path": path, "language": language_of(path), "text": text[:TEST_CHARS]})
        if len(tests) >= most:
            break
    return tests


def most_specific(failing: Sequence[str], located: dict[str, Any]) -> list[str]:
    """The failing test ids, most specific first: those that executed the top-ranked function, then those that
    executed the fewest functions (a unit test of the function before a test that goes through its callers, whose
    failure says less about it); ties keep their order."""
    functions = located.get("functions") or []
    top = set(functions[0].get("failing_tests") or []) if functions and isinstance(functions[0], dict) else set()
    scope = located.get("failing_scope") or {}
    return sorted(failing, key=lambda t: (bool(top) and t not in top, scope.get(t, float("inf"))))


def shown_failures(failures: object, order: Sequence[str] = (), most: int = 2) -> list[dict[str, str]]:
    """The failures a prompt shows: those with a message first (a Go parent test or a suite often fails with none of
    its own), then in ORDER (ids not in it last), then in the runner's order."""
    found = [{"id": str(f.get("id", "")), "message": str(f.get("message", ""))}
             for f in (failures if isinstance(failures, list) else []) if isinstance(f, dict)]
    rank = {test_id: i for i, test_id in enumerate(order)}
    return sorted(found, key=lambda f: (not f["message"].strip(), rank.get(f["id"], len(rank))))[:most]


def gather(sandbox: SandboxSession, issue: str, baseline: dict[str, str], limit: int = 8,
           file_lines: int = 0) -> RepairContext:
    """Localize, run the failing tests once more (for their messages), and read the sources to show."""
    failing = tuple(sorted(t for t, outcome in baseline.items() if outcome in ("failed", "error")))
    located = sandbox.call("localize", {"tests": list(failing) or None, "issue": issue, "limit": limit})
    ranked: list[Ranked] = []
    for function in located.data.get("functions", []) if located.ok else []:
        text = _source(sandbox, str(function.get("path", "")), str(function.get("name", "")))
        if text:
            ranked.append(Ranked(str(function["path"]), str(function["name"]), text, float(function.get("score", 0))))
    failures: object = None
    if failing:
        failures = sandbox.call("run_tests", {"tests": list(failing)}).data.get("failures")
    ran = [str(f.get("id", "")) for f in failures if isinstance(f, dict)] if isinstance(failures, list) else []
    # The most specific failing tests first; equally specific ones keep the runner's order (the file's, for node).
    order = most_specific([t for t in dict.fromkeys([*ran, *failing]) if t in failing],
                          located.data if located.ok else {})
    reported = shown_failures(failures, order)
    each = FAILURE_CHARS // max(len(reported), 1)  # each failure keeps its own head (the assertion) and tail
    failure = "\n\n".join(f"{f['id']}:\n{trimmed(f['message'], each - len(f['id']) - 2)}" for f in reported)
    # The tests whose failures are shown come first, so the prompt's test and failure are about the same test.
    tests = failing_tests(sandbox, list(dict.fromkeys([*(f["id"] for f in reported if f["id"] in failing), *order])))
    notes = "; ".join(str(n) for n in located.data.get("notes", [])) if located.ok else located.output[:200]
    files: dict[str, str] = {}
    for path in dict.fromkeys(r.path for r in ranked) if file_lines else ():
        shown = sandbox.call("file_source", {"path": path, "max_lines": file_lines})
        if shown.ok:
            files[path] = str(shown.data.get("text", ""))
    return RepairContext(issue, failing, failure, tests, ranked, notes,
                         callers(sandbox, ranked[0]) if ranked else [], files)


def callers(sandbox: SandboxSession, top: Ranked, most: int = 2) -> list[Ranked]:
    """Up to MOST functions outside the tests that call TOP, with their source: a bug shown by the top function may
    be in how it is called."""
    bare = re.split(r"[.:]", top.name)[-1]
    found = sandbox.call("find_references", {"symbol": bare}) if bare else None
    outlines: dict[str, list[dict[str, Any]]] = {}
    out: list[Ranked] = []
    for ref in found.data.get("references", []) if found is not None and found.ok else []:
        path, line = str(ref.get("path", "")), int(ref.get("line", 0))
        if ref.get("kind") != "call" or is_test_path(path):
            continue
        if path not in outlines:
            shown = sandbox.call("outline", {"path": path})
            outlines[path] = list(shown.data.get("symbols", [])) if shown.ok else []
        around = [s for s in outlines[path] if s.get("kind") in ("function", "method")
                  and int(s.get("line", 0)) <= line <= int(s.get("end_line", 0))]
        if not around:
            continue
        inner = max(around, key=lambda s: int(s.get("line", 0)))
        name = f"{inner['container']}.{inner['name']}" if inner.get("container") else str(inner["name"])
        if (path, name) == (top.path, top.name) or any((c.path, c.name) == (path, name) for c in out):
            continue
        text = _source(sandbox, path, name)
        if text:
            out.append(Ranked(path, name, text, 0.0))
        if len(out) >= most:
            break
    return out


def _source(sandbox: SandboxSession, path: str, name: str) -> str:
    found = sandbox.call("definition_source", {"path": path, "name": name, "limit": 1})
    matches: list[Any] = found.data.get("matches", []) if found.ok else []
    return str(matches[0].get("text", "")) if matches else ""


def repair_messages(context: RepairContext, target: Target, config: Config,
                    feedback: Candidate | None = None) -> list[Message]:
    """The prompt for one candidate: the same system message and stable head for every candidate, then the
    functions, then (in a feedback round) the best earlier attempt and how it still fails."""
    functions = [{"path": target.path, "language": target.language, "text": text, "name": name}
                 for name, text in target.functions]
    common = {"issue": context.issue, "tests": context.tests, "failure": context.failure, "functions": functions,
              "whole": target.whole}
    messages = [Message("system", render(config.prompts.repair, part="system", **common)),
                Message("user", render(config.prompts.repair, part="user", **common))]
    if feedback is not None:
        messages.append(Message("user", render(
            config.prompts.repair_feedback, functions=", ".join(feedback.rewrote) or target.path,
            language=target.language, code=feedback.code, fixed=len(feedback.fixed),
            failing=len(context.failing), broken=list(feedback.broken[:3]), more_broken=len(feedback.broken[3:]),
            failure=trimmed(feedback.failure, FAILURE_CHARS))))
    return messages
