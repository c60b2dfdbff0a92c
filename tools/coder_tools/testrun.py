"""run_tests: detect the project's test runner, run all or some tests, and report per-test outcomes by canonical id.

Canonical test ids (used by tasks/ fail_to_pass / pass_to_pass and accepted back as selectors):

- pytest:   the pytest node id, relative to the repo root: ``tests/test_x.py::test_name``,
            ``tests/test_x.py::TestC::test_m``, parametrized ``tests/test_x.py::test_p[1-2]``;
            a module that fails to collect is reported as ``tests/test_x.py`` with status error.
- unittest: ``module.Class.test_method`` as unittest's ``TestCase.id()`` gives it (modules are named
            relative to the discovery start: ``tests/`` when that folder is not a package).
- node:     ``<file relative path>::<test name>``; nested describe/it names are joined with ``' > '``:
            ``test/slug.test.js::slugify > keeps digits``; a file that fails to load is ``test/x.test.js``.
- go:       ``<package import path>::TestName``, subtests keep go's ``/sub_name``:
            ``example.com/wc::TestCount/tabs``; a package that fails to build is ``example.com/wc``.
- cargo:    the libtest path ``module::test_name`` (``tests::adds_two``).

A configured command (WorkspaceOptions.test_command) wins over detection. When it has a known shape
(``pytest ...``, ``python -m pytest ...``, ``go test ...``, ``node --test ...``, ``cargo test ...``) per-test
results are still read; any other command is judged by its exit code alone.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import Field

from .base import ToolArgs, ToolResult, ToolSpec, Workspace
from .procs import child_setup, kill_group, kill_strays
from .testrun_detect import LOOKED_FOR, Runner, detect
from .testrun_parsers import (
    ERROR,
    FAILED,
    PASSED,
    SKIPPED,
    UNFINISHED,
    Parsed,
    parse_cargo,
    parse_go_json,
    parse_node_events,
    parse_pytest_junit,
    parse_pytest_stream,
    parse_unittest_events,
)
from .testrun_scripts import PYTEST_PLUGIN_MODULE, write_pytest_plugin, write_scripts

STATE_KEY = "run_tests.runner"
MAX_FAILURES_SHOWN = 15
TAIL_CHARS = 4000
_NODE_VALUE_OPTS = {"--require", "-r", "--import", "--loader", "--experimental-loader"}


class RunTestsArgs(ToolArgs):
    tests: list[str] | None = Field(
        default=None,
        description=(
            "Optional subset to run, as test ids in the form this tool reports them (e.g. "
            "'tests/test_x.py::test_name', 'test/a.test.js::suite > case', 'example.com/pkg::TestName') "
            "or test files/packages. Omit to run the whole suite."
        ),
    )


@dataclass
class Invocation:
    """One concrete run: what to execute, a command to show, and how to read its results."""

    argv: list[str] | None
    shell: str | None
    display: str
    env: dict[str, str]
    parse: Callable[[str], Parsed] | None  # raw output -> results; None means exit code only
    python_path: str = ""  # a directory to put first on PYTHONPATH (coder's pytest plugin)


def _pytest(runner: Runner, sel: list[str], tmp: Path, root: Path) -> Invocation:
    junit, stream = tmp / "junit.xml", tmp / "pytest.jsonl"
    write_pytest_plugin(tmp)
    extra = ["-q", "-p", "no:cacheprovider", "-p", PYTEST_PLUGIN_MODULE, "--tb=short", f"--junitxml={junit}",
             "-o", "junit_family=xunit1"]
    argv = [*runner.argv, *extra, *sel]
    shown = ["python" if i == 0 and Path(a).name.startswith("python") else a for i, a in enumerate(runner.argv)]

    def parse(_out: str) -> Parsed:
        """junit XML when the run finished; else (killed) what the plugin streamed as tests finished."""
        if junit.is_file():
            return parse_pytest_junit(junit.read_text(encoding="utf-8", errors="replace"), root)
        return parse_pytest_stream(stream.read_text(encoding="utf-8", errors="replace"), root) \
            if stream.is_file() else Parsed()

    return Invocation(argv, None, shlex.join([*shown, "-q", *sel]), {"CODER_PYTEST_OUT": str(stream)}, parse,
                      python_path=str(tmp))


def _unittest(runner: Runner, sel: list[str], tmp: Path, root: Path) -> Invocation:
    _, script = write_scripts(tmp)
    events = tmp / "unittest.jsonl"
    mode = ["names", runner.start_dir, *sel] if sel else ["discover", runner.start_dir]
    shown = f"python -m unittest {shlex.join(sel)}" if sel else f"python -m unittest discover -s {runner.start_dir} -v"
    return Invocation(
        [runner.argv[0], str(script), *mode], None, shown, {"CODER_UNITTEST_OUT": str(events)},
        lambda _out: parse_unittest_events(events.read_text(encoding="utf-8")) if events.is_file() else Parsed(),
    )


def _node(runner: Runner, sel: list[str], tmp: Path, root: Path) -> Invocation:
    reporter, _ = write_scripts(tmp)
    events = tmp / "node.jsonl"
    head, rest = runner.argv[0], list(runner.argv[1:])
    files = [s.split("::", 1)[0] for s in sel if "::" in s or (root / s).exists()]
    names = [s.split("::", 1)[1].split(" > ")[-1] for s in sel if "::" in s]
    names += [s for s in sel if "::" not in s and not (root / s).exists()]
    if files:  # keep the script's options, replace its file arguments with the selected files
        opts: list[str] = []
        for i, tok in enumerate(rest):
            if tok.startswith("-") or (i and rest[i - 1] in _NODE_VALUE_OPTS):
                opts.append(tok)
        rest = [*opts, *dict.fromkeys(files)]
    patterns = [f"--test-name-pattern=^{re.escape(n)}$" for n in dict.fromkeys(names)]
    plumbing = [
        f"--test-reporter={reporter}", f"--test-reporter-destination={events}",
        "--test-reporter=spec", "--test-reporter-destination=stdout",
    ]
    return Invocation(
        [head, *plumbing, *patterns, *rest], None, shlex.join([head, *patterns, *rest]), runner.env,
        lambda _out: parse_node_events(events.read_text(encoding="utf-8"), root) if events.is_file() else Parsed(),
    )


def _go(runner: Runner, sel: list[str], tmp: Path, root: Path) -> Invocation:
    argv = list(runner.argv)
    if sel:
        pkgs, names = [], []
        for s in sel:
            pkg, _, name = s.partition("::")
            if not name and re.match(r"^(Test|Example|Fuzz|Benchmark)", pkg):
                pkg, name = "", pkg
            if pkg:
                pkgs.append(pkg)
            if name:
                names.append(name)
        if pkgs and argv[-1:] == ["./..."]:
            argv = [*argv[:-1], *dict.fromkeys(pkgs)]
        if names:
            tops = list(dict.fromkeys(n.split("/")[0] for n in names))
            pattern = f"^({'|'.join(map(re.escape, tops))})$"
            if len(names) == 1 and "/" in names[0]:
                pattern = "/".join(f"^{re.escape(part)}$" for part in names[0].split("/"))
            argv += ["-run", pattern]
    return Invocation(argv, None, shlex.join(argv), runner.env, parse_go_json)


def _cargo(runner: Runner, sel: list[str], tmp: Path, root: Path) -> Invocation:
    argv = list(runner.argv)
    if sel:
        argv += [*([] if "--" in argv else ["--"]), *sel, "--exact"]
    env = {"CARGO_TERM_COLOR": "never", **runner.env}
    return Invocation(argv, None, shlex.join(argv), env, parse_cargo)


def _plain(runner: Runner, sel: list[str], tmp: Path, root: Path) -> Invocation:
    if runner.shell is not None:
        line = " ".join([runner.shell, *map(shlex.quote, sel)])
        return Invocation(None, line, line, runner.env, None)
    argv = [*runner.argv, *(["--", *sel] if sel else [])]
    return Invocation(argv, None, shlex.join(argv), runner.env, None)


_BUILDERS: dict[str, Callable[[Runner, list[str], Path, Path], Invocation]] = {
    "pytest": _pytest, "unittest": _unittest, "node": _node, "go": _go, "cargo": _cargo,
    "npm": _plain, "command": _plain,
}


def _execute(inv: Invocation, root: Path, env: dict[str, str], timeout: float) -> tuple[int | None, str]:
    """Run in its own session; on timeout kill the whole process group. Returns (exit code or None, output)."""
    with tempfile.TemporaryFile() as out:
        proc = subprocess.Popen(
            inv.argv if inv.argv is not None else inv.shell or "",
            shell=inv.argv is None, cwd=root, env=env, stdin=subprocess.DEVNULL,
            stdout=out, stderr=subprocess.STDOUT, start_new_session=True, preexec_fn=child_setup,
        )
        try:
            code: int | None = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            code = None
        kill_group(proc.pid)  # also reaps anything the tests left running in the background
        proc.wait()
        out.seek(0)
        return code, out.read().decode("utf-8", errors="replace")


def _tail(text: str) -> str:
    text = text.strip()
    return text if len(text) <= TAIL_CHARS else "[...]\n" + text[-TAIL_CHARS:]


def run_tests(args: RunTestsArgs, ws: Workspace) -> ToolResult:
    runner = ws.state.get(STATE_KEY)
    if runner is None:
        runner = detect(ws.root, ws.options.test_command, ws.python)
        if runner is None:
            return ToolResult(
                ok=False,
                output=f"No test runner detected. Looked for {LOOKED_FOR}. "
                "If this project runs its tests another way, run them with bash.",
                data={"runner": None},
            )
        ws.state[STATE_KEY] = runner
    selectors = [s.strip() for s in args.tests or [] if s.strip()]
    env = {**os.environ, **ws.options.env}
    env.setdefault("PYTHONDONTWRITEBYTECODE", "1")
    if ws.options.test_timeout:
        env["CODER_TEST_TIMEOUT"] = f"{ws.options.test_timeout:g}"
    with tempfile.TemporaryDirectory(prefix="coder-tests-") as tmp_name:
        inv = _BUILDERS[runner.kind](runner, selectors, Path(tmp_name), ws.root)
        run_env = {**env, **inv.env}
        if inv.python_path:
            run_env["PYTHONPATH"] = os.pathsep.join(p for p in (inv.python_path, run_env.get("PYTHONPATH")) if p)
        try:
            code, raw = _execute(inv, ws.root, run_env, ws.options.bash_timeout)
            if ws.options.kill_strays:  # in a container, nothing a test run started outlives it (setsid'd servers)
                kill_strays()
        except FileNotFoundError as exc:
            return ToolResult(
                ok=False,
                output=f"Could not start the {runner.kind} runner ({exc.filename or inv.display}: not found). "
                "Check the toolchain is installed, or run the tests with bash.",
                data={"runner": runner.kind, "command": inv.display},
            )
        parsed = inv.parse(raw) if inv.parse is not None else None  # killed too: what finished before still counts
    result = _result(runner.kind, inv.display, code, raw, parsed, ws.options.bash_timeout)
    if runner.note:
        result = result.model_copy(update={"output": f"Note: {runner.note}\n{result.output}",
                                           "data": {**result.data, "note": runner.note}})
    return result


def _result(kind: str, command: str, code: int | None, raw: str, parsed: Parsed | None, timeout: float) -> ToolResult:
    tests = parsed.tests if parsed else {}
    counts = {s: sum(1 for v in tests.values() if v == s) for s in (PASSED, FAILED, ERROR, SKIPPED)}
    failures = [{"id": t, "message": parsed.notes.get(t, "") if parsed else ""}
                for t, s in tests.items() if s in (FAILED, ERROR)]
    data: dict[str, Any] = {
        "runner": kind, "command": command, "exit_code": code,
        "passed": counts[PASSED], "failed": counts[FAILED], "errors": counts[ERROR], "skipped": counts[SKIPPED],
        "tests": tests, "failures": failures,
    }
    where = f"({kind}: {command})"
    if code is None:
        text = f"Tests did not finish within {timeout:g}s; the whole process group was killed {where}."
        if tests:
            hung = [t for t in tests if parsed is not None and parsed.notes.get(t) == UNFINISHED]
            text += (f" Before that: {counts[PASSED]} passed, {counts[FAILED]} failed, {counts[ERROR]} errors, "
                     f"{counts[SKIPPED]} skipped" + (f"; still running: {', '.join(hung[:5])}" if hung else "") + ".")
        text += " Run a subset with tests=[...] or look for a test that hangs."
        return ToolResult(ok=False, output=f"{text}\n\nOutput so far:\n{_tail(raw)}", data=data)
    if parsed is None:  # exit code only
        verdict = "passed" if code == 0 else "failed"
        data["passed" if code == 0 else "failed"] = 1
        head = f"Command exited with {code} ({verdict}); no per-test results for this runner {where}"
        return ToolResult(ok=True, output=f"{head}\n\n{_tail(raw)}", data=data)
    lines = [f"{counts[PASSED]} passed, {counts[FAILED]} failed, {counts[ERROR]} errors, "
             f"{counts[SKIPPED]} skipped {where}"]
    for rec in failures[:MAX_FAILURES_SHOWN]:
        label = "ERROR" if tests[rec["id"]] == ERROR else "FAILED"
        note = "\n".join("    " + ln for ln in rec["message"].splitlines())
        lines.append(f"{label} {rec['id']}" + (f"\n{note}" if note else ""))
    if len(failures) > MAX_FAILURES_SHOWN:
        lines.append(f"... and {len(failures) - MAX_FAILURES_SHOWN} more failing tests")
    if not tests or (code != 0 and not failures):
        lines.append(f"\nExit code {code}; " + ("no test results could be read" if not tests else
                     "no failing test was reported") + f". Output tail:\n{_tail(raw)}")
    return ToolResult(ok=True, output="\n".join(lines), data=data)


TOOLS = [
    ToolSpec(
        "run_tests",
        "Run the project's tests (runner detected automatically: pytest, unittest, node --test/npm, go test, "
        "cargo test, or the configured command) and report passed/failed counts plus the failing tests with "
        "their assertion messages. Pass `tests` to run only some.",
        RunTestsArgs,
        run_tests,
        reports="tests",
    ),
]
