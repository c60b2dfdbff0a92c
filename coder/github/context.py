"""The GitHub Actions run coder is part of: event, repository, API URL, token and run link, from the environment."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import CoderError
from .client import DEFAULT_API_URL

__all__ = ["ActionContext", "ContextError", "MAX_EVENT_BYTES"]

MAX_EVENT_BYTES = 25 * 1024 * 1024


class ContextError(CoderError):
    """The Actions environment is missing something coder needs (a one-line message)."""


@dataclass(frozen=True)
class ActionContext:
    event_name: str
    payload: Mapping[str, Any]
    repository: str
    api_url: str
    server_url: str
    token: str | None
    run_id: str
    run_attempt: str

    @property
    def run_url(self) -> str:
        """The link to this workflow run ("" outside Actions)."""
        if not self.run_id:
            return ""
        return f"{self.server_url.rstrip('/')}/{self.repository}/actions/runs/{self.run_id}"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, event_name: str | None = None,
                 event_path: Path | None = None, repository: str | None = None) -> ActionContext:
        """Read GITHUB_EVENT_NAME, GITHUB_EVENT_PATH, GITHUB_REPOSITORY, GITHUB_API_URL, GITHUB_TOKEN, ...

        Explicit arguments win over the environment (the CLI's flags)."""
        env = os.environ if environ is None else environ
        name = event_name or env.get("GITHUB_EVENT_NAME", "")
        if not name:
            raise ContextError("no event: set GITHUB_EVENT_NAME or pass --event-name")
        path = event_path or (Path(env["GITHUB_EVENT_PATH"]) if env.get("GITHUB_EVENT_PATH") else None)
        if path is None:
            raise ContextError("no event payload: set GITHUB_EVENT_PATH or pass --event-path")
        payload = _read_payload(path)
        repo = repository or env.get("GITHUB_REPOSITORY") or str(payload.get("repository", {}).get("full_name", ""))
        if "/" not in repo:
            raise ContextError("no repository: set GITHUB_REPOSITORY (OWNER/NAME) or pass --repository")
        return cls(name, payload, repo, env.get("GITHUB_API_URL") or DEFAULT_API_URL,
                   env.get("GITHUB_SERVER_URL") or "https://github.com", env.get("GITHUB_TOKEN") or None,
                   env.get("GITHUB_RUN_ID", ""), env.get("GITHUB_RUN_ATTEMPT", ""))


def _read_payload(path: Path) -> Mapping[str, Any]:
    try:
        if path.stat().st_size > MAX_EVENT_BYTES:
            raise ContextError(f"{path}: the event payload is larger than {MAX_EVENT_BYTES} bytes")
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ContextError(f"cannot read the event payload {path}: {exc.strerror or exc}") from exc
    except (ValueError, UnicodeDecodeError) as exc:
        raise ContextError(f"{path} is not a JSON event payload: {exc}") from exc
    if not isinstance(data, dict):
        raise ContextError(f"{path} is not a JSON object")
    return data
