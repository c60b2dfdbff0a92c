"""Fixtures for the GitHub Action tests: the spec-checking fake GitHub, a bare git remote and the Actions environment."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

_HERE = Path(__file__).resolve().parent
for _p in (str(_HERE), str(_HERE.parents[1])):  # the fake server module; the repo root (before `pip install -e`)
    if _p not in sys.path:
        sys.path.insert(0, _p)

from fake_github import FakeGitHub  # noqa: E402

from coder.eval.taskspec import checkout, load_task  # noqa: E402
from repo_helpers import git  # noqa: E402

TASK = _HERE.parents[1] / "tasks" / "csv-export-drops-last-row"
ISSUE = 7
RUN_ID = "4242"


@pytest.fixture
def fake_github() -> Iterator[FakeGitHub]:
    """The fake GitHub API; a test fails if any request (or the fake's own answer) broke the OpenAPI description."""
    fake = FakeGitHub().start()
    try:
        yield fake
    finally:
        fake.stop()
    assert fake.violations == [], fake.violations


@dataclass
class World:
    """A repository on a fake GitHub: the bare remote, the two jobs' checkouts, the event and the environment."""

    tmp: Path
    fake: FakeGitHub
    origin: Path
    agent_ws: Path
    publish_ws: Path
    issue_title: str
    issue_body: str
    env: dict[str, str] = field(default_factory=dict)

    def event(self, name: str, payload: dict[str, Any]) -> dict[str, str]:
        """Write PAYLOAD as the event and return the job environment for it."""
        path = self.tmp / f"event-{len(list(self.tmp.glob('event-*.json')))}.json"
        path.write_text(json.dumps({"repository": {"full_name": self.fake.repository}, **payload}))
        outputs = self.tmp / "github_output"
        self.env = {"GITHUB_EVENT_NAME": name, "GITHUB_EVENT_PATH": str(path), "GITHUB_REPOSITORY": self.fake.repository,
                    "GITHUB_API_URL": self.fake.url, "GITHUB_SERVER_URL": "https://github.com", "GITHUB_TOKEN":
                    self.fake.token, "GITHUB_RUN_ID": RUN_ID, "GITHUB_OUTPUT": str(outputs),
                    "RUNNER_TEMP": str(self.tmp / "runner-temp")}
        outputs.write_text("")
        return self.env

    @property
    def run_url(self) -> str:
        return f"https://github.com/{self.fake.repository}/actions/runs/{RUN_ID}"

    def outputs(self) -> dict[str, str]:
        lines = (self.tmp / "github_output").read_text().splitlines()
        return dict(line.split("=", 1) for line in lines if "=" in line)

    def issue_payload(self, **extra: Any) -> dict[str, Any]:
        return {"number": ISSUE, "title": self.issue_title, "body": self.issue_body, "state": "open", **extra}

    def labelled(self, label: str = "coder") -> dict[str, str]:
        return self.event("issues", {"action": "labeled", "label": {"name": label}, "issue": self.issue_payload(),
                                     "sender": {"login": "maintainer"}})

    def commented(self, body: str, association: str, login: str = "someone") -> dict[str, str]:
        return self.event("issue_comment", {"action": "created", "issue": self.issue_payload(), "comment": {
            "id": 99, "body": body, "author_association": association, "user": {"login": login, "type": "User"}}})

    def remote_branches(self) -> dict[str, str]:
        out = git(self.origin, "for-each-ref", "--format=%(refname:short) %(objectname)", "refs/heads")
        return dict(line.split() for line in out.splitlines())


@pytest.fixture
def world(tmp_path: Path, fake_github: FakeGitHub) -> World:
    """The csv-export task's repo pushed to a bare remote (main), cloned (shallow) once per job as actions/checkout does."""
    spec = load_task(TASK)
    seed = checkout(TASK, tmp_path / "seed")
    origin = tmp_path / "origin.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(origin))
    git(seed, "push", "-q", str(origin), "HEAD:refs/heads/main")
    for name in ("agent-ws", "publish-ws"):  # shallow, like actions/checkout
        git(tmp_path, "clone", "-q", "--depth", "1", origin.as_uri(), name)
    title, _, body = spec.issue.partition("\n")
    fake_github.add_issue(ISSUE, title.strip(), body.strip())
    return World(tmp_path, fake_github, origin, tmp_path / "agent-ws", tmp_path / "publish-ws", title.strip(),
                 body.strip())
