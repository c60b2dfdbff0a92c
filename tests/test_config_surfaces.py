"""A repo file that tries to weaken the sandbox is refused with a warning the user sees: `coder fix`, the TUI, the Action."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "models"))

from coder.config import Config, ConfigError  # noqa: E402
from fake_openai_server import FakeOpenAIServer, completion, native_call  # noqa: E402
from repo_helpers import git  # noqa: E402

LOCAL_SANDBOX = '[sandbox]\nkind = "local"\n'
EDIT = {"path": "calc.py", "command": "replace", "old": "return a - b", "new": "return a + b"}


@pytest.fixture
def server() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer() as fake:
        yield fake


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """No CODER_* from the outside: the sandbox kind is whatever the repo's files make it."""
    (tmp_path / "home").mkdir()
    keep = {k: v for k, v in os.environ.items() if not k.startswith("CODER_") and k != "GITHUB_ACTIONS"}
    return {**keep, "HOME": str(tmp_path / "home"), "XDG_CACHE_HOME": str(tmp_path / "cache")}


def commit_dotfile(repo: Path, text: str) -> None:
    (repo / ".coder.toml").write_text(text)
    git(repo, "add", ".coder.toml")
    git(repo, "commit", "-qm", "coder settings")


def coder_fix(repo: Path, server: FakeOpenAIServer, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    server.reply(completion("1. Fix add", tool_calls=[native_call("c1", "edit_file", EDIT)]))
    server.reply(completion("", tool_calls=[native_call("c2", "submit", {"summary": "add adds"})]))
    return subprocess.run([sys.executable, "-m", "coder.cli", "fix", "add() subtracts", "--no-stream", "--base-url",
                           server.base_url], cwd=repo, env=env, capture_output=True, text=True, timeout=180,
                          stdin=subprocess.DEVNULL)


def test_fix_warns_and_does_not_take_local_from_the_repo(buggy_repo: Path, server: FakeOpenAIServer,
                                                         env: dict[str, str], tmp_path: Path) -> None:
    """Without an engine, `auto` falls back with its own warning; the repo's `local` was silent before."""
    commit_dotfile(buggy_repo, LOCAL_SANDBOX)
    proc = coder_fix(buggy_repo, server, {**env, "DOCKER_HOST": f"unix://{tmp_path}/no-such.sock"})
    assert proc.returncode == 0, proc.stderr
    assert "coder: warning: ignored sandbox.kind" in proc.stderr and ".coder.toml" in proc.stderr
    assert "falling back to the local sandbox" in proc.stderr  # auto's own, visible fallback


@pytest.mark.docker
def test_fix_keeps_docker_when_the_repo_asks_for_local(buggy_repo: Path, server: FakeOpenAIServer,
                                                       env: dict[str, str], docker_images: dict[str, str]) -> None:
    from repo_helpers import sandbox_leftovers

    commit_dotfile(buggy_repo, LOCAL_SANDBOX)
    proc = coder_fix(buggy_repo, server, {**env, "CODER_SANDBOX__IMAGE": docker_images["toolchain"]})
    assert "coder: warning: ignored sandbox.kind" in proc.stderr
    assert "sandbox=docker" in proc.stderr and "falling back" not in proc.stderr, proc.stderr
    assert proc.returncode == 0, proc.stderr
    assert sandbox_leftovers("docker") == []


def test_github_agent_job_warns_with_an_annotation(buggy_repo: Path, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    from coder.cli import _parser
    from coder.github import cli as github_cli

    commit_dotfile(buggy_repo, LOCAL_SANDBOX)
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"action": "labeled", "label": {"name": "coder"}, "repository": {},
                                 "issue": {"number": 7, "title": "add subtracts", "body": "", "state": "open"}}))
    environ = {"GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": "issues", "GITHUB_EVENT_PATH": str(event),
               "GITHUB_REPOSITORY": "o/r", "GITHUB_API_URL": "http://127.0.0.1:9", "RUNNER_TEMP": str(tmp_path)}
    seen: list[Config] = []

    def build(config: Config, stack: ExitStack) -> Any:
        seen.append(config)
        raise ConfigError("stop here: the sandbox the job would build is what this test checks")

    args = _parser().parse_args(["github", "agent", "--repo", str(buggy_repo)])
    assert github_cli.run(args, environ, build) == 2
    assert [c.sandbox.kind for c in seen] == ["auto"]
    err = capsys.readouterr().err
    assert "::warning title=coder configuration::" in err and "sandbox.kind" in err


def test_tui_shows_the_warning(buggy_repo: Path, monkeypatch: pytest.MonkeyPatch,
                               capsys: pytest.CaptureFixture[str]) -> None:
    import argparse

    from coder import factories
    from coder.sandboxes.local import LocalSandbox
    from coder.testing import ScriptedModel
    from coder.tui import app, launch

    commit_dotfile(buggy_repo, LOCAL_SANDBOX)
    for name in [k for k in os.environ if k.startswith("CODER_")]:
        monkeypatch.delenv(name)

    class Tty:
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr(launch.sys, "stdin", Tty())
    monkeypatch.setattr(launch.sys, "stdout", Tty())
    kinds: list[str] = []
    shown: list[list[str]] = []
    monkeypatch.setattr(factories, "build_model", lambda config, stack, progress: ScriptedModel([]))

    def choose(config: Any, repo: object, progress: object) -> tuple[LocalSandbox, None]:
        kinds.append(config.kind)
        return LocalSandbox(), None

    monkeypatch.setattr(factories, "choose_sandbox", choose)
    monkeypatch.setattr(app.CoderApp, "run", lambda self: shown.append(list(self.deps.notices)))
    args = argparse.Namespace(repo=buggy_repo, sandbox=None, approval=None, test_command=None, max_steps=None,
                              strategy=None)
    assert launch.run_tui(args, {}) == 0
    assert kinds == ["auto"]
    assert len(shown) == 1 and any("sandbox.kind" in n and ".coder.toml" in n for n in shown[0]), shown
