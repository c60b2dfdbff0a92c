"""What the agent is asked to do: a repo and an issue (or none: make the failing tests pass)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Task:
    repo: Path
    issue: str | None = None
    test_command: str | None = None
    test_timeout: float | None = None  # seconds per test (a task's own, as in task.yaml; config tests.timeout wins)

    @property
    def title(self) -> str:
        """One line describing the task, for displays."""
        if not self.issue:
            return "make the failing tests pass"
        first = self.issue.strip().splitlines()[0] if self.issue.strip() else ""
        return first[:100]
