"""The shared run context of localize's per-language collectors: temp dir, one deadline, environment, failing set."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from .base import Workspace
from .localize_defs import Defs
from .procs import kill_strays
from .testrun import Invocation, _execute
from .testrun_parsers import ERROR, FAILED, PASSED

MIN_RUN_SECONDS = 5.0  # a run is not started with less time than this left


@dataclass
class RunContext:
    """What every collector needs: the workspace, a temp dir outside it, the deadline and the chosen failing tests."""

    ws: Workspace
    tmp: Path
    deadline: float
    defs: Defs
    selectors: list[str] = field(default_factory=list)  # test ids to treat as failing (empty: the run's failures)
    timed_out: bool = False

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    def env(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        env = {**os.environ, **self.ws.options.env, **(extra or {})}
        env.setdefault("PYTHONDONTWRITEBYTECODE", "1")
        return env

    def run(self, argv: list[str], extra_env: dict[str, str] | None = None) -> tuple[int | None, str]:
        """Run in the workspace under what is left of the deadline; (None, output) when it was cut off."""
        left = self.remaining()
        if left < MIN_RUN_SECONDS:
            self.timed_out = True
            return None, ""
        inv = Invocation(argv, None, " ".join(argv), {}, None)
        code, out = _execute(inv, self.ws.root, self.env(extra_env), left)
        if self.ws.options.kill_strays:
            kill_strays()
        if code is None:
            self.timed_out = True
        return code, out

    def matches(self, test_id: str) -> bool:
        """Whether a test id is one of the selectors (itself, a test inside a selected file/class, a subtest)."""
        for sel in self.selectors:
            if test_id == sel or test_id.startswith((sel + "::", sel + "/", sel + "[", sel + " > ", sel + ".")):
                return True
        return False

    def verdict(self, test_id: str, outcome: str) -> bool | None:
        """True: a failing execution; False: a passing one; None: left out (skipped, or failing but not chosen)."""
        if self.selectors:
            if self.matches(test_id):
                return True
            return False if outcome == PASSED else None
        if outcome in (FAILED, ERROR):
            return True
        return False if outcome == PASSED else None
