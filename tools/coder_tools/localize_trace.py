"""Call tracer copied into a Python test run by localize: a pytest plugin (`-p`) and a unittest runner (as a script).

Standalone on purpose (stdlib only, no package imports, Python 3.8+): localize copies this file under a random module
name into a temp dir outside the workspace, so the repository's own code cannot shadow it. Per test it records the code
objects that started (sys.monitoring PY_START on 3.12+, else sys.setprofile/threading.setprofile "call" events, which
leave sys.settrace to coverage tools and debuggers), keeps those whose file lies inside the repository (outside
virtualenvs and site-packages), and appends one JSON line to $CODER_LOCALIZE_OUT:
{"id", "outcome", "codes": [[relpath, first_line, name], ...], "frames": [[relpath, line, name], ...]}.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import types
import unittest
from typing import Any

_OUT = os.environ.get("CODER_LOCALIZE_OUT", "")
_ROOT = os.path.realpath(os.environ.get("CODER_LOCALIZE_ROOT") or os.getcwd())
_SKIP_PARTS = {"site-packages", "dist-packages", "node_modules", ".venv", "venv", ".tox", ".nox", "__pycache__"}
_RANK = {"passed": 0, "skipped": 1, "failed": 2, "error": 3}
_MAX_FRAMES = 40


def _qualname(code: types.CodeType) -> str:
    return str(getattr(code, "co_qualname", code.co_name))


class Recorder:
    """Collects the code objects started between begin() and end() and writes one line per test."""

    def __init__(self) -> None:
        self.codes: set[types.CodeType] = set()
        self.current: str | None = None
        self.outcome = "passed"
        self.frames: list[list[Any]] = []
        self._paths: dict[str, str | None] = {}
        self._monitoring = getattr(sys, "monitoring", None)
        self._tool = -1
        self.enabled = True

    def _profile(self, frame: types.FrameType, event: str, arg: object) -> None:
        if event == "call":
            self.codes.add(frame.f_code)

    def _started(self, code: types.CodeType, offset: int) -> object:
        self.codes.add(code)
        return self._monitoring.DISABLE if self._monitoring is not None else None

    def _install(self) -> None:
        mon = self._monitoring
        if mon is not None:
            for tool in (mon.PROFILER_ID, 4, 3, 1):
                if mon.get_tool(tool) is None:
                    mon.use_tool_id(tool, "coder-localize")
                    mon.register_callback(tool, mon.events.PY_START, self._started)
                    mon.set_events(tool, mon.events.PY_START)
                    self._tool = tool
                    return
            self._monitoring = None
        threading.setprofile(self._profile)
        sys.setprofile(self._profile)

    def _uninstall(self) -> None:
        mon = self._monitoring
        if mon is not None and self._tool >= 0:
            mon.set_events(self._tool, 0)
            mon.register_callback(self._tool, mon.events.PY_START, None)
            mon.free_tool_id(self._tool)
            mon.restart_events()
            self._tool = -1
            return
        sys.setprofile(None)
        threading.setprofile(None)

    def begin(self, test_id: str) -> None:
        self.codes = set()
        self.current, self.outcome, self.frames = test_id, "passed", []
        self._install()

    def set_outcome(self, outcome: str) -> None:
        if _RANK.get(outcome, 0) > _RANK.get(self.outcome, 0):
            self.outcome = outcome

    def add_traceback(self, tb: types.TracebackType | None) -> None:
        """The repository frames of a failure's traceback, outermost first."""
        while tb is not None and len(self.frames) < _MAX_FRAMES:
            code = tb.tb_frame.f_code
            rel = self.relpath(code.co_filename)
            if rel is not None:
                self.frames.append([rel, tb.tb_lineno, _qualname(code)])
            tb = tb.tb_next

    def end(self) -> None:
        if self.current is None:
            return
        self._uninstall()
        codes = sorted({(rel, c.co_firstlineno, _qualname(c)) for c in self.codes
                        for rel in [self.relpath(c.co_filename)] if rel is not None})
        record = {"id": self.current, "outcome": self.outcome, "codes": codes, "frames": self.frames}
        self.current, self.codes = None, set()
        if _OUT:
            with open(_OUT, "a", encoding="utf-8") as handle:
                handle.write(json.dumps(record) + "\n")

    def relpath(self, filename: str) -> str | None:
        """The repository-relative path of a code object's file, or None when it is not repository code."""
        if filename in self._paths:
            return self._paths[filename]
        rel: str | None = None
        if filename and not filename.startswith("<"):
            real = os.path.realpath(filename)
            if real.startswith(_ROOT + os.sep):
                rel = os.path.relpath(real, _ROOT).replace(os.sep, "/")
                if _SKIP_PARTS.intersection(rel.split("/")) or "coder_localize_" in rel:
                    rel = None
        self._paths[filename] = rel
        return rel


RECORDER = Recorder()


# ---------------------------------------------------------------- pytest hooks (loaded with -p)

def _pytest_id(item_path: object, nodeid: str) -> str:
    """The nodeid with its file part made relative to the repository root (pytest's is relative to its rootdir)."""
    _, sep, rest = nodeid.partition("::")
    rel = RECORDER.relpath(str(item_path)) if item_path is not None else None
    return f"{rel}{sep}{rest}" if rel is not None and sep else nodeid


def pytest_configure(config: Any) -> None:
    """Under pytest-xdist the workers trace; the controller only relays their reports, so it records nothing."""
    if getattr(config.option, "numprocesses", None) and not hasattr(config, "workerinput"):
        RECORDER.enabled = False


def pytest_runtest_logstart(nodeid: str, location: object) -> None:
    if RECORDER.enabled:
        RECORDER.begin(nodeid)


def pytest_runtest_makereport(item: Any, call: Any) -> None:
    if RECORDER.current is None:
        return
    RECORDER.current = _pytest_id(getattr(item, "path", None) or getattr(item, "fspath", None), item.nodeid)
    excinfo = getattr(call, "excinfo", None)
    if excinfo is not None and call.when in ("setup", "call", "teardown"):
        if type(getattr(excinfo, "value", None)).__name__ not in ("Skipped", "XFailed"):
            RECORDER.add_traceback(getattr(excinfo, "tb", None))


def pytest_runtest_logreport(report: Any) -> None:
    if report.failed:
        RECORDER.set_outcome("failed" if report.when == "call" else "error")
    elif report.skipped and report.when in ("setup", "call"):
        RECORDER.set_outcome("skipped")


def pytest_runtest_logfinish(nodeid: str, location: object) -> None:
    RECORDER.end()


# ---------------------------------------------------------------- unittest runner (run as a script)

class TracingResult(unittest.TextTestResult):
    """A unittest result that traces each test and records its outcome and failure frames."""

    def startTest(self, test: unittest.TestCase) -> None:
        super().startTest(test)
        RECORDER.begin(test.id())

    def stopTest(self, test: unittest.TestCase) -> None:
        RECORDER.end()
        super().stopTest(test)

    def _failed(self, outcome: str, err: Any) -> None:
        RECORDER.set_outcome(outcome)
        RECORDER.add_traceback(err[2] if err else None)

    def addFailure(self, test: unittest.TestCase, err: Any) -> None:
        super().addFailure(test, err)
        self._failed("failed", err)

    def addError(self, test: unittest.TestCase, err: Any) -> None:
        super().addError(test, err)
        self._failed("error", err)

    def addSkip(self, test: unittest.TestCase, reason: str) -> None:
        super().addSkip(test, reason)
        RECORDER.set_outcome("skipped")

    def addSubTest(self, test: unittest.TestCase, subtest: unittest.TestCase, err: Any) -> None:
        super().addSubTest(test, subtest, err)
        if err is not None:
            self._failed("failed" if issubclass(err[0], test.failureException) else "error", err)


def main(argv: list[str]) -> int:
    """`python this.py discover START` or `python this.py names START TEST_ID...`."""
    mode, start, *names = argv
    sys.path.insert(0, os.path.abspath(start))
    sys.path.insert(0, os.getcwd())
    loader = unittest.TestLoader()
    suite = loader.discover(start, pattern="test*.py") if mode == "discover" else loader.loadTestsFromNames(names)
    runner = unittest.TextTestRunner(stream=sys.stderr, verbosity=1, resultclass=TracingResult)  # type: ignore[arg-type]
    return 0 if runner.run(suite).wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
