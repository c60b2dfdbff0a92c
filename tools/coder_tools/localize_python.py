"""localize for Python: run pytest (or unittest) with the call tracer loaded and turn its records into evidence."""

from __future__ import annotations

import json
import os
import secrets
import shutil
from pathlib import Path
from typing import Any

from .localize_exec import RunContext
from .localize_rank import Evidence, Execution, Func
from .testrun_detect import Runner

TRACER = Path(__file__).with_name("localize_trace.py")


def _install_tracer(tmp: Path) -> str:
    """Copy the tracer into its own folder under a random module name; returns the module name."""
    folder = tmp / "tracer"
    folder.mkdir(exist_ok=True)
    name = f"coder_localize_{secrets.token_hex(6)}"
    shutil.copyfile(TRACER, folder / f"{name}.py")
    return name


def collect_python(runner: Runner, ctx: RunContext) -> Evidence:
    """Trace every test of the suite (pytest: a -p plugin; unittest: the tracer's own runner)."""
    name = _install_tracer(ctx.tmp)
    folder, out = ctx.tmp / "tracer", ctx.tmp / "python-trace.jsonl"
    base_path = ctx.env().get("PYTHONPATH", "")
    env = {**runner.env, "CODER_LOCALIZE_OUT": str(out), "CODER_LOCALIZE_ROOT": str(ctx.ws.root),
           "PYTHONPATH": os.pathsep.join(p for p in (str(folder), base_path) if p)}
    if runner.kind == "pytest":
        argv = [*runner.argv, "-p", name, "-q", "-p", "no:cacheprovider", "--tb=no"]
        shown = "pytest with a call tracer"
    else:
        argv = [runner.argv[0], str(folder / f"{name}.py"), "discover", runner.start_dir]
        shown = "unittest with a call tracer"
    code, output = ctx.run(argv, env)
    evidence = Evidence(command=shown)
    records = _records(out)
    if not records:
        tail = "\n".join(output.strip().splitlines()[-15:])
        evidence.notes.append(f"the traced test run recorded no test (exit code {code}). Output tail:\n{tail}")
        return evidence
    if code is None:
        evidence.notes.append(f"the traced test run was cut off at the time limit after {len(records)} tests; "
                              "ranked on those")
    test_files = frozenset(r["id"].split("::", 1)[0] for r in records if "::" in r["id"])
    ctx.defs.test_files = ctx.defs.test_files | test_files
    for rec in records:
        verdict = ctx.verdict(rec["id"], rec["outcome"])
        if verdict is None:
            continue
        funcs = {f for rel, line, qual in rec["codes"] if (f := _func(ctx, rel, line, qual)) is not None}
        evidence.executions.append(Execution([rec["id"]], verdict, funcs))
        if verdict:
            frames = [f for rel, line, qual in rec["frames"] if (f := _frame(ctx, rel, line, qual)) is not None]
            if frames:
                evidence.frames[rec["id"]] = frames
    return evidence


def _records(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        return []
    records: list[dict[str, Any]] = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            rec = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(rec, dict) and isinstance(rec.get("id"), str):
            records.append(rec)
    return records


def _func(ctx: RunContext, rel: str, line: int, qual: str) -> Func | None:
    """The definition a code object belongs to (module-level code and test files map to None)."""
    return ctx.defs.at(rel, line, qual.rsplit(".", 1)[-1])


def _frame(ctx: RunContext, rel: str, line: int, qual: str) -> Func | None:
    return ctx.defs.at(rel, line)
