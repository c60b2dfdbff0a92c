"""Language-independent ranking for localize: Ochiai over test executions, raised by traceback frames and issue words."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field

FRAME_BONUS = 0.3  # the innermost repository frame of a failure (where it was raised)
OUTER_FRAME_BONUS = 0.15  # any other repository frame of a failure
NAME_BONUS = 0.25  # the issue names the function
BODY_BONUS = 0.1  # per issue identifier found in the function's body
BODY_CAP = 0.3
FILE_BONUS = 0.05  # the issue names the function's file or module

_WORD = re.compile(r"`([^`\n]{1,80})`|([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)(\(\))?")
_CAMEL = re.compile(r"[a-z0-9][A-Z]")
STOP_WORDS = frozenset("""
a an the and or but not no nor for from with without into onto over under this that these those there here then
than when where which while what who why how its it is are was were be been being has have had do does did done
can could should would will shall may might must of on in at to by as if else elif return returns def class
import self cls none true false null undefined nil var let const func function fn pub struct impl use new
error errors bug fix fixed test tests failing fails fail expected actual got value values result should_be
str int float bool list dict set tuple len print assert raise raises exception type object string number
""".split())


@dataclass(frozen=True, order=True)
class Func:
    """A function or method definition in a non-test file: repository path, qualified name and 1-based line range."""

    path: str
    start_line: int
    end_line: int
    name: str

    @property
    def short(self) -> str:
        return re.split(r"[.:]", self.name)[-1]


@dataclass
class Execution:
    """One traced run (a test, or a test file / package run as a whole) and the functions it executed."""

    tests: list[str]
    failed: bool
    functions: set[Func] = field(default_factory=set)


@dataclass
class Evidence:
    """What the test runs showed: executions, failure frames (innermost last) per failing test, and notes."""

    executions: list[Execution] = field(default_factory=list)
    frames: dict[str, list[Func]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    command: str = ""

    @property
    def failing(self) -> list[Execution]:
        return [e for e in self.executions if e.failed]


@dataclass
class Ranked:
    """One candidate with its score and the reasons behind it."""

    func: Func
    score: float
    failed: int = 0
    passed: int = 0
    failing_tests: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {"path": self.func.path, "name": self.func.name, "start_line": self.func.start_line,
                "end_line": self.func.end_line, "score": round(self.score, 4),
                "failing_tests": self.failing_tests, "reasons": self.reasons}

    def line(self) -> str:
        return f"{self.func.path}:{self.func.start_line} {self.func.name} {self.score:.3f} {'; '.join(self.reasons)}"


def issue_identifiers(text: str) -> list[str]:
    """Words of the issue that look like identifiers: snake_case, camelCase, dotted, `quoted` or called(), >= 3 chars."""
    found: dict[str, None] = {}
    for m in _WORD.finditer(text):
        quoted, word, called = m.group(1), m.group(2), m.group(3)
        words = re.findall(r"[A-Za-z_][A-Za-z0-9_.]*", quoted) if quoted else [word]
        for w in words:
            w = w.strip(".")
            if not (quoted or called or "_" in w.strip("_") or "." in w or _CAMEL.search(w)):
                continue
            parts = [w, *w.split(".")] if "." in w else [w]
            for p in parts:
                if len(p) >= 3 and p.lower() not in STOP_WORDS and not p.isdigit():
                    found[p] = None
    return list(found)


def _norm(name: str) -> str:
    return name.replace("_", "").lower()


def issue_bonus(func: Func, body: str, words: list[str]) -> tuple[float, list[str]]:
    """The issue words' contribution: the function's name, identifiers inside its body, its file."""
    if not words:
        return 0.0, []
    bonus, reasons = 0.0, []
    named = [w for w in words if _norm(w) in (_norm(func.short), _norm(func.name)) or w.endswith("." + func.name)]
    if named:
        bonus += NAME_BONUS
        reasons.append(f"issue names '{named[0]}'")
    inside = [w for w in words if "." not in w and w not in named and w != func.short
              and re.search(rf"(?<![\w$]){re.escape(w)}(?![\w$])", body)]
    if inside:
        bonus += min(BODY_CAP, BODY_BONUS * len(inside))
        reasons.append("body uses " + ", ".join(f"'{w}'" for w in inside[:3]))
    stem = func.path.rsplit("/", 1)[-1].split(".", 1)[0]
    if len(stem) >= 3 and any(_norm(w.split(".")[-1]) == _norm(stem) or w.endswith(func.path) for w in words):
        bonus += FILE_BONUS
        reasons.append(f"issue names its file '{stem}'")
    return bonus, reasons


def ochiai(failed: int, passed: int, total_failed: int) -> float:
    """failed(f) / sqrt(total_failed * (failed(f) + passed(f))); 0 when undefined."""
    if failed == 0 or total_failed == 0:
        return 0.0
    return failed / math.sqrt(total_failed * (failed + passed))


def rank(evidence: Evidence, body: Callable[[Func], str], words: list[str], extra: set[Func]) -> list[Ranked]:
    """Every function a failing execution ran, a failure frame fell in, or (from `extra`) the issue points at, best
    first. body gives a candidate's source text; ties go to more failing runs, fewer passing runs, then path and
    line."""
    failing = evidence.failing
    table: dict[Func, Ranked] = {}
    for ex in evidence.executions:
        for func in ex.functions:
            entry = table.setdefault(func, Ranked(func, 0.0))
            if ex.failed:
                entry.failed += 1
                entry.failing_tests.extend(t for t in ex.tests if t not in entry.failing_tests)
            else:
                entry.passed += 1
    chosen = {f: r for f, r in table.items() if r.failed}
    for func in extra:
        chosen.setdefault(func, table.get(func) or Ranked(func, 0.0))
    frame_hits: dict[Func, tuple[bool, str]] = {}
    for test, frames in evidence.frames.items():
        for i, func in enumerate(reversed(frames)):
            innermost = i == 0 or frame_hits.get(func, (False, ""))[0]
            if func not in frame_hits or innermost:
                frame_hits[func] = (innermost, test)
            chosen.setdefault(func, table.get(func) or Ranked(func, 0.0))
    for func, entry in chosen.items():
        entry.score = ochiai(entry.failed, entry.passed, len(failing))
        if entry.failed:
            entry.reasons.append(f"ochiai {entry.score:.2f} ({entry.failed}/{len(failing)} failing runs, "
                                 f"{entry.passed} passing)")
        if func in frame_hits:
            innermost, test = frame_hits[func]
            entry.score += FRAME_BONUS if innermost else OUTER_FRAME_BONUS
            entry.reasons.append(("raised in" if innermost else "in the traceback of") + f" {test}")
        bonus, reasons = issue_bonus(func, body(func), words)
        entry.score += bonus
        entry.reasons.extend(reasons)
    return sorted(chosen.values(), key=lambda r: (-round(r.score, 9), -r.failed, r.passed, r.func))


def rank_by_words(funcs: list[Func], body: Callable[[Func], str], words: list[str]) -> list[Ranked]:
    """Without a failing test: definitions scored by the issue's identifiers only (those with no match are left out)."""
    out = []
    for func in funcs:
        bonus, reasons = issue_bonus(func, body(func), words)
        if bonus > 0:
            out.append(Ranked(func, bonus, reasons=reasons))
    return sorted(out, key=lambda r: (-round(r.score, 9), r.func))
