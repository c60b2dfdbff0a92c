"""localize: run the tests with per-test tracing and rank the non-test functions most likely to hold the bug.

Python (pytest or unittest) is traced per test; JavaScript (node --test) per test file with V8 function coverage; Go
per failing test and per package of passing tests with cover profiles. Functions are scored with Ochiai (failing runs
that executed them against passing ones), raised by failure traceback frames and by identifiers of the issue text.
Without a failing test (or for another runner) the issue's identifiers rank tree-sitter definitions on their own.
The workspace is never written: the tracer, reports and coverage files live in a temp dir removed afterwards.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import Field

from .base import ToolArgs, ToolResult, ToolSpec, Workspace
from .localize_defs import Defs
from .localize_exec import RunContext
from .localize_go import collect_go
from .localize_node import collect_node
from .localize_python import collect_python
from .localize_rank import Evidence, Ranked, issue_identifiers, rank, rank_by_words
from .testrun import STATE_KEY
from .testrun_detect import Runner, detect

DEADLINE_MARGIN = 0.05  # the share of bash_timeout kept back for parsing and ranking
NO_FAILING = "no failing test: ranked by the issue's words"
COLLECTORS: dict[str, Callable[[Runner, RunContext], Evidence]] = {
    "pytest": collect_python, "unittest": collect_python, "node": collect_node, "go": collect_go,
}


class LocalizeArgs(ToolArgs):
    tests: list[str] | None = Field(
        default=None,
        description="Test ids to treat as failing, as run_tests reports them (e.g. 'tests/test_x.py::test_name'); "
        "a file or class selects the tests inside it. Omit to use the tests that fail now.",
    )
    issue: str = Field(
        default="",
        description="The issue text; identifiers in it (snake_case, camelCase, dotted, `quoted`, called()) raise "
        "the functions they name or that use them.",
    )
    limit: int = Field(default=8, ge=1, le=30, description="How many functions to list.")


def _runner(ws: Workspace) -> Runner | None:
    runner = ws.state.get(STATE_KEY)
    if not isinstance(runner, Runner):
        runner = detect(ws.root, ws.options.test_command, ws.python)
        if runner is not None:
            ws.state[STATE_KEY] = runner
    return runner


def _collect(runner: Runner | None, ctx: RunContext) -> Evidence:
    if runner is None:
        return Evidence(notes=["no test runner detected, so no test was run"])
    collector = COLLECTORS.get(runner.kind)
    if collector is None:
        return Evidence(notes=[f"tests run with {runner.kind} cannot be traced yet (supported: pytest, unittest, "
                               "node --test, go test), so no test was run"])
    try:
        return collector(runner, ctx)
    except FileNotFoundError as exc:
        return Evidence(notes=[f"could not start the {runner.kind} runner ({exc.filename}: not found)"])


def localize(args: LocalizeArgs, ws: Workspace) -> ToolResult:
    started = time.monotonic()
    runner = _runner(ws)
    words = issue_identifiers(args.issue)
    selectors = [s.strip() for s in args.tests or [] if s.strip()]
    budget = ws.options.bash_timeout * (1 - DEADLINE_MARGIN)
    with tempfile.TemporaryDirectory(prefix="coder-localize-") as tmp:
        ctx = RunContext(ws, Path(tmp), started + budget, Defs(ws), selectors)
        evidence = _collect(runner, ctx)
    defs = ctx.defs
    failing = evidence.failing
    ranked: list[Ranked] = []
    mode = "tests"
    if failing:
        ranked = rank(evidence, defs.body, words, defs.named(words) if words else set())
        if not ranked:
            evidence.notes.append("the failing tests executed no function outside test files")
    if not ranked:
        mode = "issue"
        evidence.notes.append(NO_FAILING if not failing else "ranked by the issue's words")
        ranked = rank_by_words(defs.all_functions(), defs.body, words) if words else []
    shown = ranked[: args.limit]
    failing_tests = list(dict.fromkeys(t for e in failing for t in e.tests))
    lines = []
    if mode == "tests":
        passing = len(evidence.executions) - len(failing)
        lines.append(f"Ranked by {len(failing)} failing and {passing} passing test runs ({evidence.command}); "
                     f"issue words: {', '.join(words[:12]) or 'none'}")
    for note in evidence.notes:
        lines.append(f"Note: {note}")
    if mode == "issue" and not words:
        lines.append("The issue names no identifier (snake_case, camelCase, dotted, `quoted` or called()), "
                     "so there is nothing to rank; use grep or symbols.")
    lines.extend(r.line() for r in shown)
    if mode == "issue" and words and not shown:
        lines.append(f"No function is named by or uses the issue's words ({', '.join(words[:12])}).")
    data: dict[str, Any] = {
        "mode": mode, "runner": runner.kind if runner else None, "command": evidence.command,
        "functions": [r.as_dict() for r in shown], "failing_tests": failing_tests, "words": words,
        "failing_scope": {t: len(e.functions) for e in failing for t in e.tests},
        "notes": evidence.notes, "executions": len(evidence.executions), "timed_out": ctx.timed_out,
        "seconds": round(time.monotonic() - started, 3),
    }
    return ToolResult(ok=True, output="\n".join(lines), data=data)


TOOLS = [
    ToolSpec(
        "localize",
        "Find the functions most likely to hold the bug: runs the tests with tracing (pytest/unittest, node --test, "
        "go test), ranks the non-test functions the failing tests executed against those passing tests executed "
        "(Ochiai), raised by failure tracebacks and by identifiers from `issue`. Lists `path:line name score "
        "reasons`; without a failing test it ranks by the issue's identifiers only. Read-only.",
        LocalizeArgs,
        localize,
        read_only=True,
    ),
]
