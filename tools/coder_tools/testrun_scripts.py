"""Small helper programs run_tests writes to a temp dir: a node --test reporter and a unittest runner, both emitting JSON lines."""

from __future__ import annotations

from pathlib import Path

# A custom node:test reporter: one JSON object per start/pass/fail/stderr event, with the file each came from
# (node 20's built-in junit reporter does not say which file a test lives in).
NODE_REPORTER = r"""
const clean = (err) => {
  if (!err) return '';
  const cause = err.cause ?? err;
  const text = (cause && (cause.stack || cause.message)) ? String(cause.stack || cause.message) : String(cause);
  return text.split('\n').filter((l) => !/node:internal|node:async_hooks|\(node:|at async Promise\.all/.test(l)).slice(0, 30).join('\n');
};
export default async function* coderReporter(source) {
  for await (const ev of source) {
    const d = ev.data || {};
    let rec = null;
    if (ev.type === 'test:start' || ev.type === 'test:pass' || ev.type === 'test:fail') {
      rec = { type: ev.type, name: d.name, nesting: d.nesting, file: d.file,
              suite: d.details?.type === 'suite', skip: d.skip, todo: d.todo };
      if (ev.type === 'test:fail') {
        rec.error = clean(d.details?.error);
        rec.failureType = d.details?.error?.failureType;
      }
    } else if (ev.type === 'test:stderr') {
      rec = { type: ev.type, file: d.file, message: d.message };
    }
    if (rec) yield JSON.stringify(rec) + '\n';
  }
}
"""

# Runs unittest discovery (or named tests) with a result class that appends one JSON line per outcome
# to $CODER_UNITTEST_OUT; the human-readable verbose report still goes to stderr.
UNITTEST_RUNNER = r'''
import json, os, signal, sys, unittest

OUT = os.environ["CODER_UNITTEST_OUT"]
LIMIT = float(os.environ.get("CODER_TEST_TIMEOUT") or 0)


class CoderTestTimeout(Exception):
    """The test ran longer than the per-test time limit."""


def _expire(signum, frame):
    raise CoderTestTimeout(f"the test did not finish within {LIMIT:g}s (the per-test time limit)")


class JsonResult(unittest.TextTestResult):
    def startTest(self, test):
        super().startTest(test)
        with open(OUT, "a", encoding="utf-8") as fh:
            fh.write(json.dumps({"id": test.id(), "status": "start"}) + "\n")
        if LIMIT > 0 and hasattr(signal, "setitimer"):
            signal.signal(signal.SIGALRM, _expire)
            signal.setitimer(signal.ITIMER_REAL, LIMIT)

    def stopTest(self, test):
        if LIMIT > 0 and hasattr(signal, "setitimer"):
            signal.setitimer(signal.ITIMER_REAL, 0)
        super().stopTest(test)

    def _emit(self, test, status, err=None):
        note = ""
        if err is not None:
            lines = self._exc_info_to_string(err, test).rstrip().splitlines()
            keep = [l for l in lines if l.lstrip().startswith("File ")][-3:]
            note = "\n".join([lines[-1]] + keep if lines else keep)
        note = note.replace(os.getcwd() + os.sep, "")
        with open(OUT, "a", encoding="utf-8") as fh:
            fh.write(json.dumps({"id": test.id(), "status": status, "note": note}) + "\n")

    def addSuccess(self, test):
        super().addSuccess(test)
        self._emit(test, "passed")

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self._emit(test, "failed", err)

    def addError(self, test, err):
        super().addError(test, err)
        self._emit(test, "error", err)

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        self._emit(test, "skipped")

    def addExpectedFailure(self, test, err):
        super().addExpectedFailure(test, err)
        self._emit(test, "skipped")

    def addUnexpectedSuccess(self, test):
        super().addUnexpectedSuccess(test)
        self._emit(test, "failed")

    def addSubTest(self, test, subtest, err):
        super().addSubTest(test, subtest, err)
        if err is not None:
            failed = issubclass(err[0], test.failureException)
            self._emit(test, "failed" if failed else "error", err)


def main():
    mode, start, *names = sys.argv[1:]
    sys.path.insert(0, os.path.abspath(start))
    sys.path.insert(0, os.getcwd())
    loader = unittest.TestLoader()
    if mode == "discover":
        suite = loader.discover(start, pattern="test*.py")
    else:
        suite = loader.loadTestsFromNames(names)
    runner = unittest.TextTestRunner(stream=sys.stderr, verbosity=2, resultclass=JsonResult)
    result = runner.run(suite)
    sys.exit(0 if result.wasSuccessful() else 1)


main()
'''


# A pytest plugin (loaded with -p) that appends one JSON line per test phase to $CODER_PYTEST_OUT as tests finish, so
# the results up to a hang are still read when the whole run is killed; and, with $CODER_TEST_TIMEOUT, fails a test
# whose call phase runs longer than that many seconds (SIGALRM; code stuck in C without returning to Python is
# stopped only by the command's own timeout).
PYTEST_PLUGIN = r'''
import json
import os
import signal

import pytest

_OUT = os.environ.get("CODER_PYTEST_OUT")
_LIMIT = float(os.environ.get("CODER_TEST_TIMEOUT") or 0)


class CoderTestTimeout(Exception):
    """The test ran longer than the per-test time limit."""


def _emit(record):
    if _OUT:
        with open(_OUT, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(record) + "\n")


def pytest_sessionstart(session):
    _emit({"root": str(session.config.rootpath)})


def pytest_runtest_logstart(nodeid, location):
    _emit({"id": nodeid, "when": "start"})


def pytest_runtest_logreport(report):
    note = ""
    if report.failed:
        note = str(getattr(report, "longreprtext", "") or "")[-2000:]
    _emit({"id": report.nodeid, "when": report.when, "outcome": report.outcome, "note": note,
           "xfail": hasattr(report, "wasxfail")})


def pytest_collectreport(report):
    if report.failed:
        _emit({"id": report.nodeid, "when": "collect", "outcome": "failed",
               "note": str(getattr(report, "longreprtext", "") or "")[-2000:]})


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    if _LIMIT <= 0 or not hasattr(signal, "setitimer"):
        yield
        return

    def expire(signum, frame):
        raise CoderTestTimeout(f"the test did not finish within {_LIMIT:g}s (the per-test time limit)")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, _LIMIT)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
'''
PYTEST_PLUGIN_MODULE = "coder_pytest_stream"


def write_pytest_plugin(tmp: Path) -> Path:
    """Write the pytest plugin into tmp (put tmp on PYTHONPATH and pass -p coder_pytest_stream)."""
    path = tmp / f"{PYTEST_PLUGIN_MODULE}.py"
    path.write_text(PYTEST_PLUGIN, encoding="utf-8")
    return path


def write_scripts(tmp: Path) -> tuple[Path, Path]:
    """Write both helpers into tmp and return (node reporter, unittest runner) paths."""
    reporter = tmp / "coder_node_reporter.mjs"
    runner = tmp / "coder_unittest_runner.py"
    reporter.write_text(NODE_REPORTER, encoding="utf-8")
    runner.write_text(UNITTEST_RUNNER, encoding="utf-8")
    return reporter, runner
