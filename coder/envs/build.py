"""Build (or find in the cache) a repository's environment image: a shared toolchain layer, then its dependencies."""

from __future__ import annotations

import hashlib
import json
import shlex
from collections.abc import Callable
from pathlib import Path
from typing import Any

from coder.sandboxes.base import SandboxError
from coder.sandboxes.docker import CONTAINER_ENV
from coder.sandboxes.docker_image import (
    BUILD_LABEL,
    FINISH_PREPARED,
    LABEL,
    ImageBuildError,
    create_build_container,
    exec_stream,
    put_repo,
    slow_engine_calls,
)

from .detect import CARGO_HOME, GOMODCACHE, NODE_PREFIX, VENV
from .indexes import IndexConfig, host_index_config
from .spec import EnvImage, EnvSpec

ENV_REPO = "coder-env"
TOOLCHAIN_REPO = "coder-toolchain"
ENV_LABEL = "org.coder.env"
TOOLCHAIN_LABEL = "org.coder.toolchain"
ENV_FORMAT = "1"  # bump when the way environment images are made changes, so old ones are not reused
ALL_LANGUAGES = ("python", "node", "go", "rust")
# Folders the unprivileged install steps write into (created and handed to uid 1000 by root first).
OWNED_DIRS = (VENV, "/opt/coder/tools", NODE_PREFIX, GOMODCACHE, CARGO_HOME, "/opt/coder/prepared")

Progress = Callable[[str], None]


class EnvBuildError(ImageBuildError):
    """Building a repository's environment image failed; the message names the command, its output and the fix."""


def runtime_env(spec: EnvSpec) -> dict[str, str]:
    """Variables the sandbox's commands run with on this environment (merged over its own; never any network).

    The venv exists only when the detected install ran; the user's sandbox.setup installs wherever it likes."""
    path = CONTAINER_ENV["PATH"]
    env: dict[str, str] = {}
    if "python" in spec.languages and not spec.setup:
        path = f"{VENV}/bin:{path}"
        env["VIRTUAL_ENV"] = VENV
    if "node" in spec.languages:
        path = f"{NODE_PREFIX}/bin:{path}"
        env.update({"npm_config_update_notifier": "false", "npm_config_fund": "false", "npm_config_audit": "false"})
    if "go" in spec.languages:
        env.update({"GOMODCACHE": GOMODCACHE, "GOPROXY": "off", "GOSUMDB": "off", "GOFLAGS": "-mod=mod",
                    "GOCACHE": "/tmp/go-build", "GOPATH": "/home/coder/go", "GOTOOLCHAIN": "local",
                    "CGO_ENABLED": "0"})
    if "rust" in spec.languages:
        env.update({"CARGO_HOME": CARGO_HOME, "CARGO_NET_OFFLINE": "true", "CARGO_TERM_COLOR": "never"})
    if path != CONTAINER_ENV["PATH"]:
        env["PATH"] = path
    return env


def _build_env(spec: EnvSpec, index: IndexConfig) -> dict[str, str]:
    """Variables of the install steps: the runtime ones with the network-side settings (indexes, proxy, CA)."""
    env = {**CONTAINER_ENV, **runtime_env(spec), "HOME": "/home/coder", "PIP_NO_CACHE_DIR": "1",
           "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_NO_INPUT": "1", "npm_config_cache": "/tmp/coder-npm-cache",
           "UV_CACHE_DIR": "/tmp/coder-uv-cache", "UV_PYTHON_DOWNLOADS": "never", "UV_LINK_MODE": "copy",
           "CI": "1", "DEBIAN_FRONTEND": "noninteractive"}
    for key in ("GOPROXY", "GOSUMDB"):
        env.pop(key, None)  # at build time Go fetches: the host's GOPROXY/GOSUMDB below, else Go's defaults
    env.update({"GOFLAGS": "-mod=mod", "CARGO_NET_OFFLINE": "false"})
    env.update(index.env)
    return env


def _digest(*parts: str | bytes) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode() if isinstance(part, str) else part)
        digest.update(b"\0")
    return digest.hexdigest()[:16]


def toolchain_tag(client: Any, sandbox_image: str, packages: tuple[str, ...]) -> str:
    """coder-toolchain:HASH of (sandbox image id, Debian packages): shared by every repository that needs them."""
    return f"{TOOLCHAIN_REPO}:{_digest(ENV_FORMAT, client.images.get(sandbox_image).id, *sorted(packages))}"


def _nothing_to_do(spec: EnvSpec) -> bool:
    return not spec.toolchain and not spec.install and not spec.setup


def env_image_tag(client: Any, repo: Path, spec: EnvSpec, sandbox_image: str) -> str:
    """The tag the environment image has (built or not): coder-env:HASH of the format, the sandbox image, the
    toolchain packages, the commands and the dependency files' bytes. The sandbox image itself when there is
    nothing to install."""
    if _nothing_to_do(spec):
        return sandbox_image
    parts: list[str | bytes] = [ENV_FORMAT, client.images.get(sandbox_image).id, " ".join(spec.toolchain),
                                "\n".join(spec.install), spec.setup or ""]
    for rel in spec.dependency_files:
        path = repo / rel
        parts += [rel, path.read_bytes() if path.is_file() else b"(missing)"]
    return f"{ENV_REPO}:{_digest(*parts)}"


def env_image_built(client: Any, tag: str) -> bool:
    """Whether the engine has an image with TAG."""
    import docker

    try:
        client.images.get(tag)
        return True
    except docker.errors.ImageNotFound:
        return False


def _env_from_labels(client: Any, tag: str) -> dict[str, str]:
    labels = client.images.get(tag).labels or {}
    try:
        env = json.loads(labels.get(ENV_LABEL, "{}")).get("env") or {}
    except (json.JSONDecodeError, AttributeError):
        env = {}
    return {str(k): str(v) for k, v in env.items()}


def ensure_toolchain(client: Any, sandbox_image: str, packages: tuple[str, ...], progress: Progress) -> str:
    """The sandbox image plus PACKAGES from Debian's apt (root step, no repository code), cached and shared."""
    if not packages:
        return sandbox_image
    tag = toolchain_tag(client, sandbox_image, packages)
    if env_image_built(client, tag):
        progress(f"toolchain image {tag} (cached: {' '.join(packages)})")
        return tag
    progress(f"building toolchain image {tag}: apt-get install {' '.join(packages)} (first use) ...")
    script = ("apt-get update -q && apt-get install -y -q --no-install-recommends " + " ".join(map(shlex.quote, packages))
              + " && rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb")
    container = create_build_container(client, sandbox_image, "toolchain")
    with slow_engine_calls(client):
        _toolchain_steps(client, container, script, packages, tag, progress)
    return tag


def _toolchain_steps(client: Any, container: Any, script: str, packages: tuple[str, ...], tag: str,
                     progress: Progress) -> None:
    try:
        container.start()
        code, tail = exec_stream(client, container, script, "root", {"DEBIAN_FRONTEND": "noninteractive"}, progress)
        if code != 0:
            raise EnvBuildError(f"installing the toolchain ({' '.join(packages)}) failed (exit {code}); the sandbox "
                                f"image needs Debian's apt with network at build time. Output:\n{tail[-1500:]}\n"
                                "Fix: set sandbox.setup to install what the tests need, or sandbox.environment = "
                                "\"none\"")
        container.stop(timeout=1)
        container.commit(repository=TOOLCHAIN_REPO, tag=tag.split(":", 1)[1],
                         changes=_commit_changes({TOOLCHAIN_LABEL: " ".join(packages)}))
    finally:
        container.remove(force=True)


def _commit_changes(labels: dict[str, str]) -> list[str]:
    """Dockerfile lines for the committed image: the sandbox's user and folder, our labels, and the build
    container's own label blanked (labels of a container are committed into the image and inherited)."""
    quoted = " ".join(f"{key}={json.dumps(value)}" for key, value in {LABEL: "1", BUILD_LABEL: "", **labels}.items())
    return ["USER coder", "WORKDIR /workspace", 'CMD ["/bin/bash"]', f"LABEL {quoted}"]


def _label(spec: EnvSpec, repo: Path, toolchain: str, env: dict[str, str]) -> str:
    return json.dumps({"languages": list(spec.languages), "manager": spec.package_manager,
                       "command": spec.setup_command, "test_runner": spec.test_runner, "env": env,
                       "repo": str(repo), "toolchain": toolchain, "files": list(spec.dependency_files)},
                      sort_keys=True)


def _failure(step: str, code: int, tail: str, spec: EnvSpec) -> EnvBuildError:
    files = ", ".join(spec.dependency_files) or "the repository's dependency files"
    fix = ("fix sandbox.setup" if spec.setup else
           f"fix the dependency file ({files}) or set sandbox.setup to install the dependencies yourself")
    return EnvBuildError(f"building the environment image failed: `{step}` exited {code}.\n"
                         f"Last output:\n{tail[-2000:]}\n"
                         f"Fix: {fix}; or set sandbox.environment = \"none\" to run without the environment image.")


def ensure_env_image(client: Any, repo: Path, spec: EnvSpec, sandbox_image: str,
                     progress: Progress = lambda _: None) -> EnvImage:
    """The environment image for REPO: from the cache when its key matches, else built on top of SANDBOX_IMAGE.

    Root steps (toolchain, folders, the user's own sandbox.setup) have only the capabilities apt needs; the detected
    install commands run the repository's code (setup.py, npm lifecycle scripts, build scripts) as uid 1000. The
    network is used here only; the sandbox always runs without it."""
    tag = env_image_tag(client, repo, spec, sandbox_image)
    if tag == sandbox_image:
        return EnvImage(tag=tag, built=False, env={})
    if env_image_built(client, tag):
        progress(f"environment image {tag} (cached)")
        return EnvImage(tag=tag, built=False, env=_env_from_labels(client, tag))
    toolchain = ensure_toolchain(client, sandbox_image, spec.toolchain, progress)
    index = host_index_config(ALL_LANGUAGES if spec.setup else spec.languages)
    for line in index.said:
        progress(line)
    progress(f"building environment image ... (first use; cached as {tag})")
    env = runtime_env(spec)
    try:
        container = create_build_container(client, toolchain, f"env {tag}", index.network, index.volumes())
    except Exception as exc:  # a mount the engine cannot make (a remote engine), a bad network mode
        raise EnvBuildError(f"could not create the environment build container: {exc}") from exc
    with slow_engine_calls(client):
        _env_steps(client, container, repo, spec, index, progress)
        try:
            container.commit(repository=ENV_REPO, tag=tag.split(":", 1)[1],
                             changes=_commit_changes({ENV_LABEL: _label(spec, repo, toolchain, env)}))
        except Exception as exc:  # the engine failed (docker.errors.APIError, a dropped connection)
            raise EnvBuildError(f"saving the environment image failed: {exc}") from exc
        finally:
            _remove(container)
    progress(f"environment image {tag} built")
    return EnvImage(tag=tag, built=True, env=env)


def _remove(container: Any) -> None:
    try:
        container.remove(force=True)
    except Exception:  # already gone: prune removes anything left
        pass


def _env_steps(client: Any, container: Any, repo: Path, spec: EnvSpec, index: IndexConfig,
               progress: Progress) -> None:
    """Copy the repo in, make the folders, run the install (as uid 1000) or the user's setup (as root), keep the
    output; the container is stopped (and removed on failure)."""
    try:
        put_repo(container, repo, index.ca_bundle)
        container.start()
        owned = " ".join(OWNED_DIRS)
        steps: list[tuple[str, str]] = [(f"mkdir -p {owned} && chown 1000:1000 {owned}", "root")]
        if spec.setup:
            steps.append((spec.setup, "root"))
        else:
            steps += [(command, "1000:1000") for command in spec.install]
        build_env = _build_env(spec, index)
        for command, user in steps:
            progress(f"$ {command}" + ("  (as root: sandbox.setup)" if command == spec.setup else ""))
            step_env = {**build_env, "HOME": "/root", "PIP_BREAK_SYSTEM_PACKAGES": "1"} if user == "root" else build_env
            code, tail = exec_stream(client, container, f"cd /workspace && (\n{command}\n)", user, step_env, progress)
            if code != 0:
                raise _failure(command, code, tail, spec)
        code, tail = exec_stream(client, container, FINISH_PREPARED, "root", {}, progress)
        if code != 0:
            raise _failure("keep the install's output in /opt/coder/prepared", code, tail, spec)
        container.stop(timeout=1)
    except BaseException as exc:
        _remove(container)
        if isinstance(exc, Exception) and not isinstance(exc, SandboxError):
            raise EnvBuildError(f"building the environment image failed: {exc}") from exc
        raise
