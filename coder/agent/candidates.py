"""Guided repair's candidates: apply one in the sandbox, let the tests judge it, put the workspace back."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from ..sandboxes.base import SandboxSession
from .conversation import failing_ids, passing_ids
from .failure_text import trimmed

Verdict = Literal["accepted", "rejected", "discarded", "duplicate"]


@dataclass(frozen=True)
class Target:
    """The functions one prompt shows, all from one file, ranked first to last; or that whole file."""

    path: str
    language: str
    functions: tuple[tuple[str, str], ...]  # (qualified name, source text)
    whole: str = ""  # the whole file, when the prompt shows it (the functions are then the ranked ones in it)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(f"{self.path}:{name}" for name, _ in self.functions)


@dataclass
class Candidate:
    """One reply's code and what the tests made of it."""

    index: int
    target: Target
    code: str
    verdict: Verdict = "discarded"
    reason: str = ""
    fixed: tuple[str, ...] = ()  # failing tests it turned to pass
    broken: tuple[str, ...] = ()  # passing tests it broke
    still_failing: tuple[str, ...] = ()
    failure: str = ""  # the first remaining failure, for a feedback round
    diff_lines: int = 0
    rewrote: tuple[str, ...] = field(default_factory=tuple)
    path: str = ""  # the file it was applied to (the target's, or another ranked file that defines its names)
    outcomes: dict[str, str] = field(default_factory=dict)  # the whole suite's outcomes with it applied


def normalized(code: str) -> str:
    """Code with blank lines and trailing spaces dropped: two replies that differ only there are one candidate."""
    return "\n".join(line.rstrip() for line in code.splitlines() if line.strip())


def first_failure(data: dict[str, object], first: tuple[str, ...] = ()) -> str:
    """The failure a feedback round shows: that of a test in FIRST (the passing tests a candidate broke, which say
    most about what it got wrong) when there is one, else the runner's first."""
    listed = data.get("failures")
    failures = [f for f in listed if isinstance(f, dict)] if isinstance(listed, list) else []
    ranked = sorted(failures, key=lambda f: str(f.get("id", "")) not in first)
    if ranked:
        test_id = str(ranked[0].get("id", ""))
        return f"{test_id}: {trimmed(str(ranked[0].get('message', '')), 1500 - len(test_id) - 2)}"
    return ""


def _changed_lines(patch: str) -> int:
    return sum(1 for line in patch.splitlines()
               if line[:1] in "+-" and not line.startswith(("+++", "---")))


def judge(candidate: Candidate, sandbox: SandboxSession, base: str, baseline: dict[str, str],
          other_paths: tuple[str, ...] = ()) -> Candidate:
    """Apply CANDIDATE to the workspace at snapshot BASE, run the failing tests and then the whole suite, and put the
    workspace back to BASE. Accepted: it turns failing tests to pass (or, when none failed, changes something) and
    breaks no test that passed. A reply whose functions are all defined in another of OTHER_PATHS (the files of the
    other ranked functions) is applied there: small models answer with the function the issue names."""
    failing = sorted(failing_ids(baseline))
    try:
        for path in (candidate.target.path, *other_paths):
            applied = sandbox.call("rewrite_functions", {"path": path, "code": candidate.code})
            if applied.ok or not applied.data.get("elsewhere"):
                break
        if not applied.ok:
            candidate.verdict, candidate.reason = "discarded", applied.output.strip()[:300]
            return candidate
        candidate.path = path
        candidate.rewrote = tuple(f"{path}:{n}" for n in
                                  [*applied.data.get("replaced", []), *applied.data.get("added", [])])
        candidate.diff_lines = _changed_lines(sandbox.patch())
        if failing:
            first = sandbox.call("run_tests", {"tests": failing})
            now = dict(first.data.get("tests", {}))
            if not passing_ids(now) & set(failing):
                candidate.verdict, candidate.reason = "rejected", "fixes none of the failing tests"
                candidate.still_failing, candidate.failure = tuple(failing), first_failure(first.data)
                return candidate
        suite = sandbox.call("run_tests", {})
        after = dict(suite.data.get("tests", {}))
        candidate.outcomes = after
        candidate.fixed = tuple(sorted(failing_ids(baseline) & passing_ids(after)))
        candidate.broken = tuple(sorted(passing_ids(baseline) & failing_ids(after)))
        candidate.still_failing = tuple(sorted(failing_ids(after)))
        candidate.failure = first_failure(suite.data, candidate.broken)
        if candidate.broken:
            candidate.verdict, candidate.reason = "rejected", f"breaks {len(candidate.broken)} passing test(s)"
        elif failing and not candidate.fixed:
            candidate.verdict, candidate.reason = "rejected", "fixes none of the failing tests"
        else:
            candidate.verdict = "accepted"
        return candidate
    finally:
        sandbox.restore(base)


def better(a: Candidate | None, b: Candidate) -> Candidate:
    """The better of two candidates: accepted first; then one that fixes failing tests, even if it breaks some (it
    is nearer a fix than one that changes nothing, and a feedback round builds on it), by tests fixed less tests
    broken; then more tests fixed, then the smaller diff."""
    if a is None:
        return b

    def key(c: Candidate) -> tuple[int, int, int, int, int]:
        return (c.verdict == "accepted", bool(c.fixed), len(c.fixed) - len(c.broken), len(c.fixed), -c.diff_lines)

    return b if key(b) > key(a) else a
