"""Shared test setup: the tool package on sys.path, temp git repos, and byte-level snapshots of a tree."""

import signal
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))

# A suite started in the background by a non-interactive shell (`pytest &`) inherits SIGINT ignored, and so does every
# coder process a test starts and then interrupts: the Ctrl-C tests hung. Give the tests a real Ctrl-C back.
if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

from repo_helpers import BUGGY_REPO, git, tree_snapshot  # noqa: E402,F401


@pytest.fixture
def make_repo(tmp_path: Path) -> Callable[..., Path]:
    """Create a committed git repo from {relative path: text or bytes}."""

    def _make(files: dict[str, str | bytes], name: str = "repo", commit: bool = True) -> Path:
        repo = tmp_path / name
        repo.mkdir()
        for rel, content in files.items():
            path = repo / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(content)
        git(repo, "init", "-q", "-b", "main")
        git(repo, "config", "user.name", "t")
        git(repo, "config", "user.email", "t@example.com")
        if commit:
            git(repo, "add", "-A")
            git(repo, "commit", "-qm", "init")
        return repo

    return _make


@pytest.fixture
def buggy_repo(make_repo: Callable[..., Path]) -> Path:
    """A tiny Python repo with one failing test (add subtracts)."""
    return make_repo(BUGGY_REPO)


# ---------------------------------------------------------------- sandboxes (local and Docker)

TOOLCHAIN_SETUP = ("apt-get update -qq && apt-get install -y -qq --no-install-recommends python3-pytest nodejs "
                   "golang-go >/dev/null && rm -rf /var/lib/apt/lists/*")


def docker_or_skip() -> object:
    """A reachable Docker client; skip without one, or fail when CODER_REQUIRE_DOCKER=1 (as in CI)."""
    import os

    from coder.sandboxes.base import SandboxError
    from coder.sandboxes.docker import docker_client

    try:
        return docker_client()
    except SandboxError as exc:
        if os.environ.get("CODER_REQUIRE_DOCKER") == "1":
            pytest.fail(f"CODER_REQUIRE_DOCKER=1 but {exc}")
        pytest.skip(str(exc))


@pytest.fixture(scope="session")
def docker_images(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """{"plain": the sandbox image, "toolchain": it plus pytest, node and go (a cached setup image)}."""
    import os

    from coder.sandboxes.docker_image import DEFAULT_BASE, OFFLINE_BASE, build_image, ensure_setup_image, image_tag

    client = docker_or_skip()
    tag = image_tag()
    try:
        client.images.get(tag)  # type: ignore[attr-defined]
    except Exception:
        offline = any(OFFLINE_BASE in t for img in client.images.list() for t in img.tags)  # type: ignore[attr-defined]
        base = os.environ.get("CODER_TEST_BASE_IMAGE") or (OFFLINE_BASE if offline else DEFAULT_BASE)
        build_image(client, base=base)
    empty = tmp_path_factory.mktemp("toolchain")
    git(empty, "init", "-q")
    toolchain = ensure_setup_image(client, empty, TOOLCHAIN_SETUP, tag)
    return {"plain": tag, "toolchain": toolchain}


@pytest.fixture(params=["local", pytest.param("docker", marks=pytest.mark.docker)])
def sandbox_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def sandbox(sandbox_kind: str, request: pytest.FixtureRequest) -> object:
    """A Sandbox of each kind: the local one and a Docker one on the toolchain image."""
    from coder.sandboxes.local import LocalSandbox

    if sandbox_kind == "local":
        return LocalSandbox()
    from coder.sandboxes.docker import DockerSandbox

    images = request.getfixturevalue("docker_images")
    return DockerSandbox(image=images["toolchain"])
