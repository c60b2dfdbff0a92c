"""Guided repair with no failing test: when the issue shows how to reproduce the bug, ask the model for a test file
that reproduces it, and keep that file only if its new tests fail on the current code (and nothing else changes)."""

from __future__ import annotations

import re
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from coder_tools.rewrite import code_from_reply, fenced_code
from coder_tools.risk import is_test_path

from ..config import Config
from ..events import Event
from ..models.base import Message
from ..prompts import render
from ..sandboxes.base import SandboxSession
from .conversation import passing_ids
from .repair_context import Ranked, language_of

# A fenced block, an interpreter session, a traceback or a shell command: the issue shows how to reproduce the bug.
_REPRO_SIGNS = re.compile(r"^\s*```|^\s*>>> |Traceback \(most recent call last\)|^\s*\$ \S", re.M)
_NUMBERED = re.compile(r"^ *\d+\t(.*)$")
_GREP_HIT = re.compile(r"^([^:\n]+):\d+: ")  # a grep hit: path:line: text
_PARAMETRIZED = re.compile(r"\[.*\]$")
EXAMPLE_LINES = 80  # the head of the existing test file shown as the example
REPRO_STEM = "coder_repro"

Ask = Callable[[list[Message], dict[str, Any]], Generator[Event, None, str]]


@dataclass(frozen=True)
class ReproTest:
    """A test file the model wrote that reproduces the issue, with the suite's outcomes once it is in place."""

    path: str
    failing: tuple[str, ...]  # its tests that fail on the current code
    outcomes: dict[str, str]  # the new tests' outcomes, to add to the baseline
    before: str  # the workspace snapshot from before the file was written


def gives_repro(issue: str) -> bool:
    """Whether the issue shows how to reproduce the bug (code, an interpreter session, a traceback, a command)."""
    return bool(_REPRO_SIGNS.search(issue))


def repro_path(example: str, exists: Callable[[str], bool]) -> str:
    """A new test file next to EXAMPLE that the same runner finds: its naming convention with the stem coder_repro
    (test_coder_repro.py, coder_repro_test.go, coder_repro.test.js, CoderReproTest.java, ...), numbered when taken."""
    where = PurePosixPath(example)
    name = where.name
    for marker in ("_test.", ".test.", ".spec.", "-test.", "_spec.", "-spec."):
        if marker in name:
            stem, rest = REPRO_STEM, name[name.index(marker):]
            break
    else:
        if name.startswith("test_"):
            stem, rest = f"test_{REPRO_STEM}", name[name.index("."):] if "." in name else ""
        elif re.search(r"Tests?\.", name):
            found = re.search(r"Tests?\.", name)
            assert found is not None
            stem, rest = "CoderRepro", name[found.start():]
        else:
            stem, rest = f"test_{REPRO_STEM}", "".join(where.suffixes)
    for number in range(1, 100):
        candidate = str(where.with_name(f"{stem}{'' if number == 1 else number}{rest}"))
        if not exists(candidate):
            return candidate
    raise ValueError(f"no free test file name next to {example}")


def _test_name(test_id: str) -> str:
    """The bare test name of a runner's id: 'path::Class::test_x[1]', 'pkg::TestX', 'mod.Class.test_x'."""
    last = test_id.rsplit("::", 1)[-1] if "::" in test_id else test_id.rsplit(".", 1)[-1]
    return _PARAMETRIZED.sub("", last).split(" > ")[-1].strip()


def _grep_files(sandbox: SandboxSession, pattern: str) -> list[str]:
    """Test files holding a line that matches PATTERN, in the order grep lists them."""
    found = sandbox.call("grep", {"pattern": pattern})
    files: list[str] = []
    for line in found.output.splitlines() if found.ok else []:
        match = _GREP_HIT.match(line)
        if match and is_test_path(match.group(1)) and match.group(1) not in files:
            files.append(match.group(1))
    return files


def example_test_file(sandbox: SandboxSession, baseline: dict[str, str], ranked: Sequence[Ranked]) -> str | None:
    """The existing test file to show as the example: one that mentions the top-ranked function, else the file of the
    first test the baseline ran."""
    files: list[str] = []
    for test_id in sorted(baseline)[:20]:
        left = test_id.split("::", 1)[0]
        if "::" in test_id and is_test_path(left) and PurePosixPath(left).suffix:
            files.append(left)
        else:
            name = _test_name(test_id)
            if re.fullmatch(r"\w+", name):
                files.extend(_grep_files(sandbox, rf"\b{name}\b")[:1])
        if files:
            break
    if ranked:
        bare = re.split(r"[.:]", ranked[0].name)[-1]
        mentioning = _grep_files(sandbox, rf"\b{re.escape(bare)}\b") if bare else []
        if mentioning:
            return mentioning[0]
    return files[0] if files else None


def _head(sandbox: SandboxSession, path: str) -> str:
    shown = sandbox.call("view_file", {"path": path, "start_line": 1, "end_line": EXAMPLE_LINES})
    if not shown.ok:
        return ""
    return "\n".join(m.group(1) for line in shown.output.splitlines() if (m := _NUMBERED.match(line)))


def reproduce(sandbox: SandboxSession, config: Config, issue: str, baseline: dict[str, str],
              ranked: Sequence[Ranked], ask: Ask, tries: int) -> Generator[Event, None, ReproTest | str]:
    """Ask up to TRIES times for a test file reproducing ISSUE; keep the first whose new tests fail (and that breaks
    no test that passed). Returns the kept test, or a line saying why there is none. The file stays in the
    workspace when kept; every other attempt is removed."""
    example = example_test_file(sandbox, baseline, ranked)
    if example is None:
        return "no existing test file to take as an example"
    text = _head(sandbox, example)
    path = repro_path(example, lambda p: sandbox.call("view_file", {"path": p, "end_line": 1}).ok)
    language = language_of(example)
    functions = [{"path": r.path, "language": language_of(r.path), "text": r.text} for r in ranked[:2]]
    common = {"issue": issue, "example": {"path": example, "language": language, "text": text}, "functions": functions,
              "path": path}
    messages = [Message("system", render(config.prompts.repro_test, part="system", **common)),
                Message("user", render(config.prompts.repro_test, part="user", **common))]
    before = sandbox.snapshot()
    why = "the model wrote no test"
    for attempt in range(tries):
        sampling = {"temperature": 0.0 if attempt == 0 else config.guided.temperature, "seed": config.guided.seed * 1000 + attempt,
                    "max_tokens": config.guided.reply_tokens}
        reply_text = yield from ask(messages, sampling)
        code = code_from_reply(reply_text, language) if fenced_code(reply_text) else ""
        if not code.strip():
            why = "the reply held no test file"
            continue
        written = sandbox.call("edit_file", {"command": "create", "path": path, "new": code.rstrip("\n") + "\n"})
        if not written.ok:
            why = f"the test file could not be written: {written.output[:200]}"
            sandbox.restore(before)
            continue
        ran = sandbox.call("run_tests", {})
        after = {str(k): str(v) for k, v in dict(ran.data.get("tests", {})).items()}
        new = {t: o for t, o in after.items() if t not in baseline}
        failing = tuple(sorted(t for t, o in new.items() if o == "failed"))
        broken = passing_ids(baseline) - passing_ids(after)
        if failing and not broken:
            return ReproTest(path, failing, new, before)
        why = ("its tests errored instead of failing" if any(o == "error" for o in new.values()) else
               "its tests broke the existing ones" if broken else "its tests did not run" if not new else
               "its tests pass on the current code")
        sandbox.restore(before)
    return why
