"""localize for Go: cover profiles of each failing test and of each package's passing tests, mapped to functions."""

from __future__ import annotations

import re
from pathlib import Path

from .localize_exec import RunContext
from .localize_rank import Evidence, Execution, Func
from .testrun_detect import Runner
from .testrun_parsers import parse_go_json

MAX_FAILING = 6  # failing top-level tests traced one by one
MAX_PACKAGES = 8  # packages whose passing tests are traced (one execution each)
_PROFILE_LINE = re.compile(r"^(.+\.go):(\d+)\.\d+,(\d+)\.\d+ \d+ (\d+)$")


def go_module(root: Path) -> str:
    """The module path go.mod declares (empty when there is none)."""
    try:
        text = (root / "go.mod").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    m = re.search(r"^module\s+(\S+)", text, re.MULTILINE)
    return m.group(1).strip('"') if m else ""


def _profile(ctx: RunContext, path: Path, module: str) -> set[Func]:
    """Functions with a covered block in a cover profile ('<import path>/file.go:l.c,l.c stmts count')."""
    funcs: set[Func] = set()
    if not path.is_file():
        return funcs
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        m = _PROFILE_LINE.match(line)
        if not m or m.group(4) == "0":
            continue
        name = m.group(1)
        if module and name.startswith(module + "/"):
            rel = name[len(module) + 1:]
        elif not module or name.startswith("_/"):
            continue
        else:
            continue  # another module's code
        func = ctx.defs.at(rel, int(m.group(2)))
        if func is not None:
            funcs.add(func)
    return funcs


def _traced(runner: Runner, ctx: RunContext, pkg: str, names: list[str], tag: str, module: str) -> set[Func]:
    out = ctx.tmp / f"go-{tag}.out"
    pattern = f"^({'|'.join(re.escape(n) for n in names)})$"
    argv = [runner.argv[0], "test", "-count=1", "-run", pattern, "-coverpkg=./...", f"-coverprofile={out}", pkg]
    ctx.run(argv, runner.env)
    return _profile(ctx, out, module)


def collect_go(runner: Runner, ctx: RunContext) -> Evidence:
    evidence = Evidence(command="go test with cover profiles per failing test and per package")
    module = go_module(ctx.ws.root)
    argv = list(runner.argv) if "-json" in runner.argv else [runner.argv[0], "test", "-json", "./..."]
    code, raw = ctx.run(argv, runner.env)
    parsed = parse_go_json(raw) if code is not None else None
    if not parsed or not parsed.tests:
        evidence.notes.append("the go test run reported no test" + (" (cut off at the time limit)"
                                                                     if ctx.timed_out else ""))
        return evidence
    failing: dict[tuple[str, str], list[str]] = {}
    passing: dict[str, dict[str, None]] = {}
    for test_id, status in parsed.tests.items():
        pkg, _, name = test_id.partition("::")
        if not name:
            continue
        verdict = ctx.verdict(test_id, status)
        top = name.split("/")[0]
        if verdict:
            failing.setdefault((pkg, top), []).append(test_id)
        elif verdict is False:
            passing.setdefault(pkg, {})[top] = None
    for (pkg, top), ids in list(failing.items())[:MAX_FAILING]:
        funcs = _traced(runner, ctx, pkg, [top], f"fail{len(evidence.executions)}", module)
        evidence.executions.append(Execution(ids, True, funcs))
    failing_tops = {(pkg, top) for pkg, top in failing}
    for i, (pkg, tops) in enumerate(list(passing.items())[:MAX_PACKAGES]):
        names = [t for t in tops if (pkg, t) not in failing_tops]
        if names:
            funcs = _traced(runner, ctx, pkg, names, f"pass{i}", module)
            evidence.executions.append(Execution([f"{pkg}::{n}" for n in names], False, funcs))
    if len(failing) > MAX_FAILING:
        evidence.notes.append(f"traced {MAX_FAILING} of {len(failing)} failing tests")
    return evidence
