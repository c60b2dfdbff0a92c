"""localize for JavaScript: node --test under NODE_V8_COVERAGE, each test file's process as one execution.

V8's coverage is per process and node runs each test file in its own process, so one run of the suite yields one
coverage file per test file (the file that loaded it). A file's run is one execution, failing when one of its tests
failed. A file that holds both is split instead: each failing test (up to MAX_SOLO in all) runs alone as a failing
execution and its passing tests together (by name pattern) as a passing one, so their functions can be told apart.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .localize_defs import is_test_path, relative
from .localize_exec import RunContext
from .localize_rank import Evidence, Execution, Func
from .testrun import _node
from .testrun_detect import Runner
from .testrun_parsers import Parsed

MAX_SOLO = 5  # failing tests (in files that also hold passing ones) re-run alone for sharper coverage


def _run(runner: Runner, ctx: RunContext, selection: list[str], tag: str) -> tuple[Parsed, Path]:
    """One node --test run with coverage into its own folder; its parsed outcomes and that folder."""
    folder = ctx.tmp / f"node-{tag}"
    folder.mkdir()
    inv = _node(runner, selection, folder, ctx.ws.root)
    cov = folder / "coverage"
    code, raw = ctx.run(inv.argv or [], {**inv.env, "NODE_V8_COVERAGE": str(cov)})
    parsed = inv.parse(raw) if inv.parse is not None and code is not None else Parsed()
    return parsed, cov


def _scripts(cov: Path) -> list[list[dict[str, Any]]]:
    """Each process's script coverage list (one entry per coverage-*.json)."""
    out: list[list[dict[str, Any]]] = []
    for path in sorted(cov.glob("coverage-*.json")) if cov.is_dir() else []:
        try:
            result = json.loads(path.read_text(encoding="utf-8")).get("result")
        except (OSError, json.JSONDecodeError, AttributeError):
            continue
        if isinstance(result, list):
            out.append([s for s in result if isinstance(s, dict)])
    return out


def _covered(ctx: RunContext, scripts: list[dict[str, Any]]) -> tuple[set[str], set[Func]]:
    """(repository files this process loaded, non-test functions it ran)."""
    files: set[str] = set()
    funcs: set[Func] = set()
    for script in scripts:
        rel = relative(ctx.ws, str(script.get("url", "")))
        if rel is None or "node_modules" in rel.split("/"):
            continue
        files.add(rel)
        if is_test_path(rel, ctx.defs.test_files):
            continue
        pf = ctx.defs.parsed(rel)
        if pf is None:
            continue
        text = pf.source.decode("utf-8", errors="replace")
        for fn in script.get("functions") or []:
            ranges = fn.get("ranges") or []
            if not ranges or int(ranges[0].get("count", 0)) <= 0:
                continue
            start, end = int(ranges[0].get("startOffset", 0)), int(ranges[0].get("endOffset", 0))
            if start == 0 and end >= len(text) - 1:  # the module wrapper
                continue
            func = ctx.defs.at(rel, text.count("\n", 0, start) + 1)
            if func is not None:
                funcs.add(func)
    return files, funcs


def _alone(runner: Runner, ctx: RunContext, selection: list[str], tag: str) -> set[Func] | None:
    """The functions a run of only the selected tests executed; None when none of them ran."""
    parsed, cov = _run(runner, ctx, selection, tag)
    if not any(t in parsed.tests for t in selection):
        return None
    ran: set[Func] = set()
    for scripts in _scripts(cov):
        ran |= _covered(ctx, scripts)[1]
    return ran


def collect_node(runner: Runner, ctx: RunContext) -> Evidence:
    evidence = Evidence(command="node --test with V8 coverage per test file")
    parsed, cov = _run(runner, ctx, [], "all")
    if not parsed.tests:
        evidence.notes.append("the node test run reported no test" + (" (cut off at the time limit)"
                                                                       if ctx.timed_out else ""))
        return evidence
    by_file: dict[str, dict[str, str]] = {}
    for test_id, status in parsed.tests.items():
        by_file.setdefault(test_id.split("::", 1)[0], {})[test_id] = status
    ctx.defs.test_files = ctx.defs.test_files | frozenset(by_file)
    solo = 0
    for scripts in _scripts(cov):
        files, funcs = _covered(ctx, scripts)
        for test_file in sorted(files & set(by_file)):
            verdicts = {t: ctx.verdict(t, s) for t, s in by_file[test_file].items()}
            failing = [t for t, v in verdicts.items() if v]
            passing = [t for t, v in verdicts.items() if v is False]
            if failing and passing and "::" in failing[0] and solo < MAX_SOLO:
                # a mixed file: each failing test alone, then the passing ones together, instead of the whole file
                refined = [(t, _alone(runner, ctx, [t], f"solo{solo + i}")) for i, t in enumerate(failing[:MAX_SOLO])]
                solo += len(refined)
                good = _alone(runner, ctx, passing, f"pass{solo}")
                if good is not None and all(r is not None for _, r in refined):
                    evidence.executions.extend(Execution([t], True, r or set()) for t, r in refined)
                    evidence.executions.append(Execution(passing, False, good))
                    continue
            if failing:
                evidence.executions.append(Execution(failing, True, funcs))
            elif passing:
                evidence.executions.append(Execution(passing, False, funcs))
    return evidence
