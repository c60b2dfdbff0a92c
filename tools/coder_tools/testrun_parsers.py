"""Turn each test runner's machine-readable output into canonical test ids, statuses and failure notes."""

from __future__ import annotations

import json
import os
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PASSED, FAILED, ERROR, SKIPPED = "passed", "failed", "error", "skipped"
_RANK = {PASSED: 0, SKIPPED: 1, FAILED: 2, ERROR: 3}
LINE_CAP = 200  # characters kept of one line of a failure note
NOTE_LINES = 12  # lines kept of one failure note
NODE_FILTERED = "test name does not match pattern"


@dataclass
class Parsed:
    """Per-test outcomes in run order, plus a short note for every failed or errored test."""

    tests: dict[str, str] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)

    def add(self, test_id: str, status: str, note: str = "") -> None:
        """Record an outcome; a test reported twice keeps its worst status."""
        old = self.tests.get(test_id)
        if old is None or _RANK[status] >= _RANK[old]:
            self.tests[test_id] = status
        if status in (FAILED, ERROR) and note and test_id not in self.notes:
            self.notes[test_id] = note


def compact(lines: list[str], limit: int = NOTE_LINES) -> str:
    """Drop blank lines, cap each line and the number of lines."""
    kept = [ln.rstrip()[:LINE_CAP] for ln in lines if ln.strip()]
    if len(kept) > limit:
        kept = kept[:limit] + [f"... ({len(kept) - limit} more lines)"]
    return "\n".join(kept)


# ---------------------------------------------------------------- pytest (JUnit XML, xunit1)

_PY_LOCATION = re.compile(r"^\S.*:\d+: ")


def _pytest_note(message: str, text: str) -> str:
    """The assertion message, then each 'file:line: in func' of a --tb=short traceback with its source
    line, then any 'E ...' lines the message does not already say."""
    msg = [ln for ln in message.splitlines() if ln.strip()][:6]
    seen = {ln.strip() for ln in msg}
    body = text.splitlines()
    extra: list[str] = []
    for i, ln in enumerate(body):
        if _PY_LOCATION.match(ln):
            extra.append(ln)
            if i + 1 < len(body) and body[i + 1].startswith(" "):
                extra.append(body[i + 1])
        elif ln.startswith("E ") and ln[1:].strip() and ln[1:].strip() not in seen:
            extra.append(ln)
            seen.add(ln[1:].strip())
    if not msg and not extra:
        extra = body[-6:]
    return compact(msg + extra)


def _pytest_path(dotted: str, root: Path, file_attr: str) -> tuple[str, list[str]]:
    """Split a JUnit classname into the test file path and the class names after it."""
    parts = dotted.split(".") if dotted else []
    for i in range(len(parts), 0, -1):
        candidate = "/".join(parts[:i]) + ".py"
        if (root / candidate).is_file():
            return candidate, parts[i:]
    if file_attr:
        module = re.sub(r"\.py$", "", file_attr).replace("/", ".")
        if dotted == module or dotted.startswith(module + "."):
            return file_attr, dotted[len(module) + 1 :].split(".") if dotted != module else []
    return (parts[0] + ".py" if parts else file_attr), parts[1:]


def parse_pytest_junit(xml_text: str, root: Path) -> Parsed:
    """pytest --junitxml -o junit_family=xunit1 -> ids 'path/test_x.py::Class::test_name[param]'."""
    out = Parsed()
    if not xml_text.strip():
        return out
    tree = ET.fromstring(xml_text)
    for case in tree.iter("testcase"):
        classname = case.get("classname", "")
        name = case.get("name", "")
        file_attr = case.get("file", "")
        if classname:
            path, classes = _pytest_path(classname, root, file_attr)
            test_id = "::".join([path, *classes, name])
        else:  # a collection error: the name is the dotted module
            test_id = _pytest_path(name, root, file_attr)[0]
        failure, error, skipped = case.find("failure"), case.find("error"), case.find("skipped")
        if failure is not None:
            out.add(test_id, FAILED, _pytest_note(failure.get("message", ""), failure.text or ""))
        elif error is not None:
            out.add(test_id, ERROR, _pytest_note(error.get("message", ""), error.text or ""))
        elif skipped is not None:
            out.add(test_id, SKIPPED)
        else:
            out.add(test_id, PASSED)
    return out


UNFINISHED = "did not finish: the run was killed at its time limit while this test ran"


def json_objects(text: str) -> Iterator[dict[str, Any]]:
    """The JSON objects of TEXT, one per line; other lines (a partly written last line of a killed run) are skipped."""
    for line in text.splitlines():
        try:
            value = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(value, dict):
            yield value


def parse_pytest_stream(text: str, root: Path) -> Parsed:
    """The JSON lines of coder's pytest plugin (testrun_scripts.PYTEST_PLUGIN), read when junit XML is missing because
    the run was killed: every finished test, plus the one that was running, as failed."""
    out = Parsed()
    base = root
    started: list[str] = []
    finished: set[str] = set()
    for ev in json_objects(text):
        if "root" in ev:
            base = Path(str(ev["root"]))
            continue
        node = str(ev.get("id", ""))
        path, sep, rest = node.partition("::")
        try:
            rel = os.path.relpath(base / path, root).replace(os.sep, "/") if path else node
        except ValueError:
            rel = path
        test_id = f"{rel}{sep}{rest}" if not rel.startswith("..") else node
        when, outcome = ev.get("when"), ev.get("outcome")
        note = compact(str(ev.get("note", "")).splitlines())
        if when == "start":
            started.append(test_id)
        elif when == "collect":
            out.add(test_id, ERROR, note)
        elif outcome == "skipped" or ev.get("xfail"):
            out.add(test_id, SKIPPED)
            finished.add(test_id)
        elif outcome == "failed":
            out.add(test_id, FAILED if when == "call" else ERROR, note)
            finished.add(test_id)
        elif when == "call" and outcome == "passed":
            out.add(test_id, PASSED)
            finished.add(test_id)
    for test_id in started:
        if test_id not in finished:
            out.add(test_id, FAILED, UNFINISHED)
    return out


# ---------------------------------------------------------------- unittest (our runner's JSON lines)

def parse_unittest_events(text: str) -> Parsed:
    """Lines of {"id", "status", "note"} written by the bundled unittest runner (status "start" as each test begins: one
    with no outcome was running when the run was killed)."""
    out = Parsed()
    started: dict[str, None] = {}
    for ev in json_objects(text):
        if ev.get("status") == "start":
            started[str(ev.get("id"))] = None
        elif ev.get("status") in _RANK:
            out.add(str(ev["id"]), ev["status"], compact(str(ev.get("note", "")).splitlines()))
    for test_id in started:
        if test_id not in out.tests:
            out.add(test_id, FAILED, UNFINISHED)
    return out


# ---------------------------------------------------------------- node --test (our reporter's JSON lines)

def parse_node_events(text: str, root: Path) -> Parsed:
    """Reporter events -> ids '<file relative path>::<describe> > <test>' (suites themselves are left out)."""
    out = Parsed()
    stacks: dict[str, list[str]] = {}
    stderr: dict[str, list[str]] = {}
    started: dict[str, None] = {}  # tests that began, by id: one that never ended was running when the run was killed
    ended: set[str] = set()
    for ev in json_objects(text):
        file = str(ev.get("file") or "")
        kind, name, nesting = ev.get("type"), str(ev.get("name", "")), int(ev.get("nesting") or 0)
        if kind == "test:stderr":
            stderr.setdefault(file, []).append(str(ev.get("message", "")))
            continue
        if kind not in ("test:start", "test:pass", "test:fail"):
            continue
        stack = stacks.setdefault(file, [])
        del stack[nesting:]
        stack.append(name)
        rel = _relative(file, root)
        if kind == "test:start":
            if not (nesting == 0 and file and name == file):
                started[f"{rel}::{' > '.join(stack)}"] = None
            continue
        ended.add(f"{rel}::{' > '.join(stack)}")
        if nesting == 0 and file and name == file:  # the whole file failed to load or crashed
            note = compact("".join(stderr.get(file, [])).splitlines()) or str(ev.get("error") or "")
            out.add(rel, ERROR if kind == "test:fail" else PASSED, note)
            continue
        if ev.get("suite"):
            continue
        if ev.get("skip") == NODE_FILTERED:
            continue
        test_id = f"{rel}::{' > '.join(stack)}"
        if ev.get("skip") not in (None, False) or ev.get("todo") not in (None, False):
            out.add(test_id, SKIPPED)
        elif kind == "test:pass":
            out.add(test_id, PASSED)
        else:
            note = compact(str(ev.get("error") or "").replace(f"{root}{os.sep}", "").splitlines())
            out.add(test_id, ERROR if ev.get("failureType") == "hookFailed" else FAILED, note)
    for test_id in started:
        if test_id not in ended and not any(other.startswith(test_id + " > ") for other in started):
            out.add(test_id, FAILED, UNFINISHED)  # a suite that never ended is not a test; its running test is
    return out


def _relative(file: str, root: Path) -> str:
    try:
        return Path(file).resolve().relative_to(root).as_posix()
    except ValueError:
        return file


# ---------------------------------------------------------------- go test -json

_GO_NOISE = re.compile(r"^\s*(=== (RUN|PAUSE|CONT|NAME)|--- (FAIL|PASS|SKIP):)")
_GO_BUILD_FAIL = re.compile(r"^FAIL\s+(\S+)\s+\[(build|setup) failed\]")


def parse_go_json(text: str) -> Parsed:
    """go test -json events -> ids '<package import path>::TestName/sub'; packages that fail outside tests become errors."""
    out = Parsed()
    output: dict[tuple[str, str], list[str]] = {}
    failed_pkgs: list[str] = []
    plain: list[str] = []
    running: dict[str, None] = {}  # tests that began and have not ended (one left is where a killed run hung)
    for line in text.splitlines():
        try:
            ev = json.loads(line) if line.startswith("{") else None
        except json.JSONDecodeError:
            ev = None
        if not isinstance(ev, dict):
            plain.append(line)
            m = _GO_BUILD_FAIL.match(line)
            if m:
                out.add(m.group(1), ERROR, _go_build_note(plain, m.group(1)))
            continue
        pkg, test, action = str(ev.get("Package", "")), ev.get("Test"), ev.get("Action")
        key = (pkg, str(test or ""))
        if test and action == "run":
            running[f"{pkg}::{test}"] = None
        if action == "output":
            output.setdefault(key, []).append(str(ev.get("Output", "")))
        elif test and action in ("pass", "fail", "skip"):
            running.pop(f"{pkg}::{test}", None)
            status = {"pass": PASSED, "fail": FAILED, "skip": SKIPPED}[action]
            note = compact([ln.strip() for ln in "".join(output.get(key, [])).splitlines() if not _GO_NOISE.match(ln)])
            out.add(f"{pkg}::{test}", status, note)
        elif not test and action == "fail":
            failed_pkgs.append(pkg)
    for pkg in failed_pkgs:
        if not any(k.startswith(pkg + "::") and v in (FAILED, ERROR) for k, v in out.tests.items()):
            lines = "".join(output.get((pkg, ""), [])).splitlines()
            out.add(pkg, ERROR, compact([ln for ln in lines if not ln.startswith(("FAIL", "ok"))][-NOTE_LINES:]))
    for test_id in running:  # a test whose subtest hung did not finish either
        out.add(test_id, FAILED, UNFINISHED)
    return out


def _go_build_note(plain: list[str], pkg: str) -> str:
    """The compiler errors printed (outside the JSON) under '# pkg'."""
    lines: list[str] = []
    collecting = False
    for ln in plain:
        if ln.startswith("# "):
            collecting = ln[2:].split(" ")[0] == pkg
            continue
        if collecting and not ln.startswith("FAIL"):
            lines.append(ln)
    return compact(lines) or f"package {pkg} failed to build"


# ---------------------------------------------------------------- cargo test (libtest text)

_CARGO_LINE = re.compile(r"^test (.+?) \.\.\. (ok|FAILED|ignored.*|bench.*)$")
_CARGO_SECTION = re.compile(r"^---- (.+?) stdout ----$")


def parse_cargo(text: str) -> Parsed:
    """libtest lines 'test module::name ... ok|FAILED|ignored' -> ids 'module::name'."""
    out = Parsed()
    notes: dict[str, list[str]] = {}
    current: str | None = None
    for line in text.splitlines():
        m = _CARGO_SECTION.match(line)
        if m:
            current = m.group(1)
            notes[current] = []
            continue
        if current is not None:
            if line.startswith(("failures:", "stack backtrace:", "note: ")) or line.startswith("test result:"):
                current = None
            else:
                notes[current].append(line)
            continue
        m = _CARGO_LINE.match(line)
        if m:
            word = m.group(2)
            status = PASSED if word == "ok" else FAILED if word == "FAILED" else SKIPPED
            out.add(m.group(1), status)
    for test_id, lines in notes.items():
        if out.tests.get(test_id) == FAILED:
            out.notes[test_id] = compact(lines)
    return out
