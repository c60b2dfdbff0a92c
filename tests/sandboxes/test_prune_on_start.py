"""A `coder fix` killed with SIGKILL leaves its container; the next run's sandbox factory removes it, and keeps the
containers of runs still going."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "models"))

from coder.config import SandboxConfig  # noqa: E402
from coder.factories import docker_sandbox  # noqa: E402
from coder.sandboxes.docker import docker_client  # noqa: E402
from coder.sandboxes.docker_image import LABEL  # noqa: E402
from coder.sandboxes.owner import owner_labels, owner_pid  # noqa: E402
from fake_openai_server import FakeOpenAIServer  # noqa: E402

pytestmark = pytest.mark.docker


def _owned_by(client: object, pid: int) -> list[str]:
    return [c.name for c in client.containers.list(all=True, filters={"label": LABEL})  # type: ignore[attr-defined]
            if owner_pid(c.labels) == pid]


def test_the_next_run_removes_what_a_killed_fix_left(buggy_repo: Path, docker_images: dict[str, str],
                                                     tmp_path: Path) -> None:
    client = docker_client()
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("CODER_")}, "XDG_CACHE_HOME": str(tmp_path),
           "CODER_SANDBOX__KIND": "docker", "CODER_SANDBOX__IMAGE": docker_images["toolchain"]}
    with FakeOpenAIServer() as server:
        server.slow(120)
        proc = subprocess.Popen([sys.executable, "-m", "coder.cli", "fix", "x", "--base-url", server.base_url],
                                cwd=buggy_repo, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 90
            while not (server.requests and _owned_by(client, proc.pid)) and time.monotonic() < deadline:
                time.sleep(0.2)
            assert _owned_by(client, proc.pid), "the run never reached the model inside a container"
        finally:
            proc.kill()  # SIGKILL: no cleanup runs
            proc.wait(timeout=30)
    orphans = _owned_by(client, proc.pid)
    assert orphans, "a SIGKILLed run leaves its container (else this test shows nothing)"
    live = client.containers.create(docker_images["plain"], command=["sleep", "60"],
                                    labels={LABEL: "1", **owner_labels()})  # a run still going: this process
    try:
        said: list[str] = []
        docker_sandbox(SandboxConfig(kind="docker", image=docker_images["toolchain"]), progress=said.append)
        names = {c.name for c in client.containers.list(all=True, filters={"label": LABEL})}
        assert not set(orphans) & names
        assert live.name in names
        assert len(said) == 1 and "removed" in said[0], said
        said.clear()
        docker_sandbox(SandboxConfig(kind="docker", image=docker_images["toolchain"]), progress=said.append)
        assert said == []  # quiet when there is nothing to remove
    finally:
        live.remove(force=True)
        for name in _owned_by(client, proc.pid):
            client.containers.get(name).remove(force=True)
