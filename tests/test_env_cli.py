"""`coder env build | show | prune` on a real engine with small fixture repositories, and its one-line usage errors."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from coder import env_cli
from coder.errors import UsageError
from repo_helpers import BUGGY_REPO, git

FAST_SETUP = "true"  # sandbox.setup replaces the detected install: a build of a few seconds, no network needed


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="coder")
    env_cli.add_parser(parser.add_subparsers(dest="command"))
    return parser.parse_args(["env", *argv])


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Like coder.cli.main for `env`: the handler, and a UsageError as one line with exit 2."""
    args = parse(*argv)
    try:
        code = int(args.handler(args))
    except UsageError as exc:
        print(f"coder: error: {exc}", file=sys.stderr)
        code = 2
    out, err = capsys.readouterr()
    return code, out, err


class ScopedImages:
    """The engine's images, as far as this test's own environment images go: other runs' images are invisible to
    prune and cannot be removed by it (the engine is shared with whatever else runs here)."""

    def __init__(self, images: Any, mine: Callable[[Any], bool]) -> None:
        self._images, self._mine = images, mine

    def list(self, *args: Any, **kwargs: Any) -> list[Any]:
        return [image for image in self._images.list(*args, **kwargs) if self._mine(image)]

    def remove(self, ref: str, *args: Any, **kwargs: Any) -> None:
        assert self._mine(self._images.get(ref)), f"prune tried to remove {ref}, not this test's image"
        self._images.remove(ref, *args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._images, name)


class ScopedClient:
    def __init__(self, client: Any, mine: Callable[[Any], bool]) -> None:
        self._client, self.images = client, ScopedImages(client.images, mine)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


@pytest.fixture
def engine(docker_images: dict[str, str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Any]:
    """The real client; the sandbox image the session built; a fast setup; every image built here removed after."""
    from coder.envs import list_env_images
    from coder.sandboxes.docker import docker_client

    client = docker_client()
    for key in [k for k in os.environ if k.startswith("CODER_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("CODER_SANDBOX__IMAGE", docker_images["plain"])
    monkeypatch.setenv("CODER_SANDBOX__SETUP", FAST_SETUP)
    yield client
    for row in list_env_images(client):
        if str(row["repo"]).startswith(str(tmp_path)):
            try:
                client.images.remove(row["tag"], force=True)
            except Exception:
                pass


def fixture_repo(make_repo: Callable[..., Path], name: str) -> Path:
    return make_repo({**BUGGY_REPO, "requirements.txt": f"# {name} {uuid.uuid4().hex}\n"}, name=name)


def tags(client: Any) -> set[str]:
    return {tag for image in client.images.list(filters={"label": "org.coder.env"}) for tag in image.tags}


@pytest.mark.docker
def test_build_then_cached_then_show(engine: Any, make_repo: Callable[..., Path],
                                     capsys: pytest.CaptureFixture[str]) -> None:
    repo = fixture_repo(make_repo, "one")
    code, out, err = run(capsys, "show", "--repo", str(repo), "--json")
    assert code == 0, err
    before = json.loads(out)
    assert before["languages"] == ["python"] and before["test_runner"] == "pytest"
    assert before["setup_from"].startswith("sandbox.setup") and before["setup_command"] == FAST_SETUP
    assert before["dependency_files"] == ["requirements.txt"]
    assert before["image_built"] is False and "coder env build" in before["image_detail"]
    code, out, err = run(capsys, "build", "--repo", str(repo))
    assert code == 0, err
    assert out.strip() == before["image"] and "built in" in err and out.strip() in tags(engine)
    code, out, err = run(capsys, "build", "--repo", str(repo))
    assert code == 0 and out.strip() == before["image"] and "cached: already built" in err
    code, out, err = run(capsys, "show", "--repo", str(repo), "--json")
    after = json.loads(out)
    assert after["image"] == before["image"] and after["image_built"] is True and "image_detail" not in after
    [row] = [r for r in after["env_images"] if r["tag"] == after["image"]]
    assert row["current_for_this_repo"] is True and row["repo"] == str(repo)
    code, out, err = run(capsys, "show", "--repo", str(repo))
    assert code == 0 and "image built: True" in out and f"* {after['image']}" in out


@pytest.mark.docker
def test_prune_removes_only_images_no_repository_uses(engine: Any, make_repo: Callable[..., Path],
                                                      tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil

    one, two, gone = (fixture_repo(make_repo, name) for name in ("one", "two", "gone"))
    built = {}
    for name, repo in (("one-old", one), ("two", two), ("gone", gone)):
        code, out, err = run(capsys, "build", "--repo", str(repo))
        assert code == 0, err
        built[name] = out.strip()
    (one / "requirements.txt").write_text(f"# one, new dependencies {uuid.uuid4().hex}\n")
    git(one, "commit", "-qam", "deps")
    code, out, err = run(capsys, "build", "--repo", str(one))
    built["one-new"] = out.strip()
    shutil.rmtree(gone)
    assert len(set(built.values())) == 4 and set(built.values()) <= tags(engine)

    def mine(image: Any) -> bool:
        return any(tag in built.values() for tag in image.tags)

    monkeypatch.setattr(env_cli, "_client", lambda: ScopedClient(engine, mine))
    code, out, err = run(capsys, "prune")
    assert code == 0, err
    assert "removed 2 environment image(s)" in err
    left = tags(engine)
    assert {built["one-new"], built["two"]} <= left  # current for repositories that exist
    assert not {built["one-old"], built["gone"]} & left  # superseded by a dependency change; repository gone
    code, out, err = run(capsys, "prune", "--all")
    assert code == 0 and "removed 2 environment image(s)" in err
    assert not set(built.values()) & tags(engine)


def test_usage_errors_are_one_line_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                          make_repo: Callable[..., Path], monkeypatch: pytest.MonkeyPatch) -> None:
    code, out, err = run(capsys, "build", "--repo", str(tmp_path / "nope"))
    assert code == 2 and err.count("\n") == 1 and "is not a directory" in err
    code, out, err = run(capsys, "show", "--repo", str(tmp_path))
    assert code == 2 and err.count("\n") == 1 and "not the top of a git repository" in err
    repo = make_repo(BUGGY_REPO)
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-engine.sock")
    code, out, err = run(capsys, "build", "--repo", str(repo))
    assert code == 2 and err.count("\n") == 1 and "need Docker" in err
    code, out, err = run(capsys, "prune")
    assert code == 2 and "need Docker" in err
    code, out, err = run(capsys, "show", "--repo", str(repo), "--json")  # show still says what is detected
    shown = json.loads(out)
    assert code == 0 and shown["languages"] == ["python"] and shown["image"] == "unknown"
    assert shown["env_images"] is None


def test_prune_rule_is_in_its_help() -> None:
    parser = argparse.ArgumentParser(prog="coder")
    env_cli.add_parser(parser.add_subparsers(dest="command"))
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices["env"]
    prune = next(a for a in sub._actions if isinstance(a, argparse._SubParsersAction)).choices["prune"]
    assert "dependency changes" in prune.format_help() and "repositories that are gone" in prune.format_help()


def test_coder_cli_runs_env_and_demo(tmp_path: Path) -> None:
    """Wired into coder.cli: `coder env` and `coder demo` parse, and a usage error is one line with exit 2."""
    proc = subprocess.run([sys.executable, "-m", "coder.cli", "env", "show", "--repo", str(tmp_path)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and proc.stderr.startswith("coder: error:") and proc.stderr.count("\n") == 1, \
        proc.stderr
    proc = subprocess.run([sys.executable, "-m", "coder.cli", "demo", "--help"], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0 and "--max-steps" in proc.stdout, proc.stderr


@pytest.mark.docker
def test_github_agent_step_requires_the_image_the_step_before_built(engine: Any, make_repo: Callable[..., Path],
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    from coder.config import load_config
    from coder.github.agent_job import AgentJobError, require_env_image

    repo = fixture_repo(make_repo, "action")
    config = load_config(repo, {"sandbox.kind": "docker"})
    with pytest.raises(AgentJobError, match="coder env build"):
        require_env_image(config, repo)
    code, out, err = run(capsys, "build", "--repo", str(repo))  # what the action's step runs
    assert code == 0, err
    require_env_image(config, repo)
    require_env_image(load_config(repo, {"sandbox.kind": "local"}), make_repo(BUGGY_REPO, name="other"))
