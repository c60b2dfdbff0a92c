"""Trajectory files: one JSON object per line holding events, the exact messages sent, and the raw model text.

Lines are strict UTF-8 JSON: undecodable bytes (surrogates) and control characters are written as \\u escapes, so the
file is safe to print and reads back to exactly the text that was written."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from .events import Event, event_from_dict, to_dict
from .visible import json_line


def default_trajectory_dir() -> Path:
    """$XDG_CACHE_HOME/coder/trajectories (never inside the user's repo)."""
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "coder" / "trajectories"


class TrajectoryWriter:
    """Appends records to a JSONL file, flushing each line so a crash keeps what happened."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file: IO[str] = open(path, "a", encoding="utf-8")

    def _write(self, record: dict[str, Any]) -> None:
        self._file.write(json_line(record) + "\n")
        self._file.flush()

    def event(self, event: Event) -> None:
        self._write({"kind": "event", "event": to_dict(event)})

    def request(self, step: int, messages: list[dict[str, Any]], tools: list[str], allowed: list[str] | None = None) -> None:
        """What was sent: the messages, the tools described, and (when narrowed) the tools the reply could call."""
        record: dict[str, Any] = {"kind": "request", "step": step, "messages": messages, "tools": tools}
        if allowed is not None:
            record["allowed"] = allowed
        self._write(record)

    def response(self, step: int, raw: str) -> None:
        self._write({"kind": "response", "step": step, "raw": raw})

    def close(self) -> None:
        if not self._file.closed:
            self._file.close()


def read_events(path: Path) -> Iterator[Event]:
    """The events of a trajectory file, in order (other records skipped)."""
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path}:{number}: not JSON ({exc.msg})") from exc
            if isinstance(record, dict) and record.get("kind") == "event":
                yield event_from_dict(record["event"])
