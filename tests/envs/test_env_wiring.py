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


class FakeImage:
    def __init__(self, tag: str, labels: dict[str, str], created: str) -> None:
        self.tags, self.labels, self.id, self.short_id = [tag], labels, f"sha256:{tag}", tag
        self.attrs = {"Created": created, "Size": 1000}


class ImageEngine:
    def __init__(self, images: list[FakeImage], in_use: set[str]) -> None:
        self.images = self
        self.all, self.in_use, self.removed = images, in_use, []  # type: ignore[var-annotated]

    def list(self, filters: dict[str, str]) -> list[FakeImage]:
        return [i for i in self.all if filters["label"] in i.labels and i.tags[0] not in self.removed]

    def remove(self, ref: str) -> None:
        if ref in self.in_use:
            raise RuntimeError("conflict: image is being used by a running container")
        self.removed.append(ref)


def test_list_and_prune_environment_images() -> None:
    import json

    from coder.envs import list_env_images, prune_env_images

    def env(tag: str, repo: str, toolchain: str, created: str) -> FakeImage:
        info = {"languages": ["go"], "manager": "go", "command": "go mod download", "repo": repo, "toolchain": toolchain}
        return FakeImage(tag, {"org.coder.env": json.dumps(info), "org.coder.sandbox": "1"}, created)

    engine = ImageEngine([env("coder-env:a", "/r/a", "coder-toolchain:go", "2026-01-02"),
                          env("coder-env:b", "/r/b", "coder-toolchain:node", "2026-01-03"),
                          env("coder-env:c", "/r/c", "coder-toolchain:rust", "2026-01-01"),
                          FakeImage("coder-toolchain:go", {"org.coder.toolchain": "golang-go"}, "2026-01-01"),
                          FakeImage("coder-toolchain:node", {"org.coder.toolchain": "nodejs npm"}, "2026-01-01"),
                          FakeImage("coder-toolchain:rust", {"org.coder.toolchain": "cargo"}, "2026-01-01")],
                         in_use={"coder-env:c"})
    rows = list_env_images(engine)
    assert [r["tag"] for r in rows] == ["coder-env:b", "coder-env:a", "coder-env:c"]  # newest first
    assert rows[1]["repo"] == "/r/a" and rows[1]["summary"] == "go via go: go mod download" and rows[1]["size"] == 1000
    # a is kept, c is in use (kept, and so is its toolchain); b and the node toolchain go
    assert prune_env_images(engine, keep={"coder-env:a"}) == 2
    assert engine.removed == ["coder-env:b", "coder-toolchain:node"]
