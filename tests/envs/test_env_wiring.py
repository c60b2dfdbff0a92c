"""docker_sandbox/choose_sandbox with sandbox.environment: the environment image and its variables are used, and a
failed build is a ConfigError (exit 2 with the message), never a silent fall back to the local sandbox."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import coder.envs
from coder import factories
from coder.config import ConfigError, SandboxConfig
from coder.envs import EnvBuildError, EnvImage
from coder.envs.build import runtime_env
from coder.envs.detect import detect_environment
from coder.sandboxes import docker, docker_image


class Engine:
    """Just enough of a Docker client for the factory: no containers to prune, any image exists."""

    def __init__(self) -> None:
        self.containers = self
        self.images = self

    def list(self, **_: Any) -> list[Any]:
        return []

    def get(self, tag: str) -> Any:
        return type("Image", (), {"id": f"sha256:{tag}", "labels": {}})()


@pytest.fixture
def engine(monkeypatch: pytest.MonkeyPatch) -> Engine:
    fake = Engine()
    monkeypatch.setattr(docker, "docker_client", lambda *a, **k: fake)
    return fake


def test_auto_runs_on_the_environment_image_with_its_variables(engine: Engine, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "requirements.txt").write_text("six\n")
    calls: list[tuple[Path, str]] = []

    def ensure(client: Any, repo: Path, spec: Any, image: str, progress: Any) -> EnvImage:
        calls.append((repo, image))
        return EnvImage(tag="coder-env:abc", built=False, env=runtime_env(spec))

    monkeypatch.setattr(coder.envs, "ensure_env_image", ensure)
    said: list[str] = []
    sandbox = factories.docker_sandbox(SandboxConfig(kind="docker", image="coder-sandbox:x"), tmp_path, said.append)
    assert calls == [(tmp_path, "coder-sandbox:x")]
    assert sandbox.image == "coder-env:abc" and sandbox.env["VIRTUAL_ENV"] == "/opt/coder/env"  # type: ignore[attr-defined]
    assert any("python via pip" in line for line in said)


@pytest.mark.parametrize("kind", ["auto", "docker"])
def test_a_failed_environment_build_is_a_config_error(engine: Engine, tmp_path: Path, kind: str,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "requirements.txt").write_text("nope\n")

    def fail(*_: Any, **__: Any) -> EnvImage:
        raise EnvBuildError("building the environment image failed: `pip install -r requirements.txt` exited 1")

    monkeypatch.setattr(coder.envs, "ensure_env_image", fail)
    with pytest.raises(ConfigError, match="requirements.txt"):
        factories.choose_sandbox(SandboxConfig(kind=kind, image="coder-sandbox:x"), tmp_path)


def test_environment_none_keeps_the_old_setup_path(engine: Engine, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(coder.envs, "ensure_env_image", lambda *a, **k: pytest.fail("no environment image"))
    monkeypatch.setattr(docker_image, "ensure_setup_image", lambda client, repo, setup, image, progress: "coder-setup:1")
    config = SandboxConfig(kind="docker", image="coder-sandbox:x", environment="none", setup="make deps")
    sandbox = factories.docker_sandbox(config, tmp_path)
    assert sandbox.image == "coder-setup:1" and sandbox.env == {}  # type: ignore[attr-defined]


def test_runtime_variables_per_language(tmp_path: Path) -> None:
    for name, text in {"go.mod": "module x\n", "Cargo.toml": "", "package.json": "{}", "test_x.py": ""}.items():
        (tmp_path / name).write_text(text)
    env = runtime_env(detect_environment(tmp_path))
    assert env["PATH"].startswith("/opt/coder/node/bin:/opt/coder/env/bin:")
    assert env["GOPROXY"] == "off" and env["GOMODCACHE"] == "/opt/coder/go/mod" and env["GOCACHE"].startswith("/tmp")
    assert env["CARGO_HOME"] == "/opt/coder/cargo" and env["CARGO_NET_OFFLINE"] == "true"
    setup_env = runtime_env(detect_environment(tmp_path, setup="pip install -r requirements.txt"))
    assert "VIRTUAL_ENV" not in setup_env and "/opt/coder/env/bin" not in setup_env.get("PATH", "")  # no venv built
