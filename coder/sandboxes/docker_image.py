"""Building the sandbox images: the tool-server image (sandbox/Dockerfile) and per-repo setup images cached by hash."""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from coder import __version__
from coder.resources import resource_dir, tools_path

from .base import SandboxError
from .owner import owner_labels
from .repo_copy import repo_files

IMAGE_REPO = "coder-sandbox"
SETUP_REPO = "coder-setup"
LABEL = "org.coder.sandbox"
DEFAULT_BASE = "python:3.11-slim"
OFFLINE_BASE = "coder-base:bookworm"
DEPENDENCY_FILES = ("pyproject.toml", "setup.py", "setup.cfg", "requirements.txt", "requirements-dev.txt",
                    "package.json", "package-lock.json", "yarn.lock", "pnpm-lock.yaml", "go.mod", "go.sum",
                    "Cargo.toml", "Cargo.lock", "Gemfile.lock", "pom.xml")
_PULL_FAILURES = ("pull access denied", "dial tcp", "no such host", "failed to resolve", "manifest unknown",
                  "tls handshake", "i/o timeout", "connection refused", "not found: manifest", "repository does not exist")

SETUP_FORMAT = "3"  # bump when the way setup images are made changes, so old ones are not reused

Progress = Callable[[str], None]


class ImageBuildError(SandboxError):
    """Building a sandbox image failed; the message says what to do."""


def _tool_sources() -> list[Path]:
    package = tools_path() / "coder_tools"
    return sorted(p for p in package.rglob("*") if p.is_file() and p.suffix in (".py", ".scm"))


def image_tag() -> str:
    """coder-sandbox:VERSION-HASH, the hash covering the tool server, its pins and the Dockerfile."""
    digest = hashlib.sha256()
    sandbox = resource_dir("sandbox")
    for path in [*_tool_sources(), sandbox / "Dockerfile", sandbox / "requirements.txt"]:
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return f"{IMAGE_REPO}:{__version__}-{digest.hexdigest()[:12]}"


def _wheel_cache(requirements: Path) -> Path:
    key = hashlib.sha256(requirements.read_bytes()).hexdigest()[:16]
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "coder" / "wheels" / key


def fetch_wheels(dest: Path, python_version: str, progress: Progress) -> None:
    """The pinned tool-server wheels for the image's Python, from the cache or PyPI (pip download)."""
    requirements = resource_dir("sandbox") / "requirements.txt"
    cache = _wheel_cache(requirements)
    if not (cache / ".complete").is_file():
        progress(f"downloading tool-server wheels for Python {python_version} ...")
        cache.mkdir(parents=True, exist_ok=True)
        cmd = [sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check", "--no-deps",
               "--only-binary=:all:", "--python-version", python_version, "--implementation", "cp",
               "--platform", "manylinux2014_x86_64", "--platform", "manylinux_2_17_x86_64",
               "--platform", "manylinux_2_28_x86_64", "-r", str(requirements), "-d", str(cache)]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            raise ImageBuildError(f"could not download the tool server's wheels: {proc.stderr.strip()[-500:]}")
        (cache / ".complete").write_text("ok\n")
    shutil.copytree(cache, dest, ignore=shutil.ignore_patterns(".complete"))
    shutil.copy(requirements, dest / "requirements.txt")


def prepare_context(dest: Path, python_version: str, progress: Progress) -> None:
    """A docker build context: the Dockerfile, the tool server package and its wheels."""
    shutil.copy(resource_dir("sandbox") / "Dockerfile", dest / "Dockerfile")
    shutil.copytree(tools_path() / "coder_tools", dest / "coder_tools",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    fetch_wheels(dest / "wheels", python_version, progress)


def _stream_build(lines: Any, progress: Progress, base: str) -> None:
    for chunk in lines:
        if "error" in chunk or "errorDetail" in chunk:
            message = str(chunk.get("error") or chunk.get("errorDetail", {}).get("message", "")).strip()
            if any(marker in message.lower() for marker in _PULL_FAILURES):
                raise ImageBuildError(
                    f"cannot get the base image {base} ({message}). Without a container registry, build an offline "
                    f"base first: `coder sandbox base` (runs sandbox/build-base.sh), then "
                    f"`coder sandbox build --base {OFFLINE_BASE}`")
            raise ImageBuildError(f"docker build failed: {message}")
        text = str(chunk.get("stream") or chunk.get("status") or "").strip()
        if text:
            progress(text)


def build_image(client: Any, base: str = DEFAULT_BASE, python_version: str = "3.11",
                progress: Progress = lambda _: None, tag: str | None = None) -> str:
    """Build the tool-server image FROM BASE and return its tag."""
    tag = tag or image_tag()
    with tempfile.TemporaryDirectory(prefix="coder-build-") as tmp:
        prepare_context(Path(tmp), python_version, progress)
        lines = client.api.build(path=tmp, tag=tag, buildargs={"BASE_IMAGE": base}, rm=True, forcerm=True,
                                 decode=True, labels={LABEL: "1"})
        _stream_build(lines, progress, base)
    return tag


def setup_key(repo: Path, setup_command: str, image_id: str) -> str:
    """Cache key of a setup image: the sandbox image, the command and the repo's dependency files."""
    digest = hashlib.sha256(f"{SETUP_FORMAT}\0{image_id}\0{setup_command}\0".encode())
    for name in DEPENDENCY_FILES:
        path = repo / name
        if path.is_file():
            digest.update(name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def repo_tar(repo: Path) -> bytes:
    """The repo's files (tracked plus untracked-not-ignored) as an uncompressed tar, owned by uid 1000."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for rel in repo_files(repo):
            info = tar.gettarinfo(str(repo / rel), arcname=rel)
            info.uid = info.gid = 1000
            info.uname = info.gname = "coder"
            if info.isreg():
                with open(repo / rel, "rb") as handle:
                    tar.addfile(info, handle)
            elif info.issym() or info.isdir():
                tar.addfile(info)
    return buffer.getvalue()


HOST_CA_PATH = "/tmp/coder-host-ca.crt"
HOST_CA_CANDIDATES = ("/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt", "/etc/ssl/cert.pem")
CA_VARIABLES = ("SSL_CERT_FILE", "PIP_CERT", "REQUESTS_CA_BUNDLE", "NODE_EXTRA_CA_CERTS", "CURL_CA_BUNDLE",
                "GIT_SSL_CAINFO")
# Build containers run root steps with only what apt/dpkg and chown need (measured: apt-get update fails without
# DAC_OVERRIDE, apt drops to the _apt user with SETUID/SETGID, dpkg sets owners with CHOWN/FOWNER). Steps that run
# repository code run as uid 1000, which holds no capabilities at all; no-new-privileges stops setuid binaries.
ROOT_CAPABILITIES = ["CHOWN", "DAC_OVERRIDE", "FOWNER", "SETUID", "SETGID"]
BUILD_LABEL = "org.coder.build"


def _host_ca_bundle() -> bytes | None:
    for candidate in HOST_CA_CANDIDATES:
        path = Path(candidate)
        if path.is_file():
            return path.read_bytes()
    return None


def _single_file_tar(name: str, data: bytes) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        info = tarfile.TarInfo(name)
        info.size, info.mode = len(data), 0o644
        tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


@contextmanager
def slow_engine_calls(client: Any, seconds: float = 900.0) -> Iterator[None]:
    """Let the engine take SECONDS per call (committing or removing a container of a few GB takes longer than the
    client's usual 10 s)."""
    api = client.api
    before = api.timeout
    api.timeout = max(before or 0, seconds)
    try:
        yield
    finally:
        api.timeout = before


def create_build_container(client: Any, image: str, purpose: str, network: str = "bridge",
                           volumes: dict[str, dict[str, str]] | None = None) -> Any:
    """A stopped container for building an image: root with ROOT_CAPABILITIES only, no-new-privileges, labelled
    so `coder sandbox prune` (and the next run) can remove it if this process dies. Build variables are given
    per step (exec_stream), never to the container, so none of them ends up in the committed image."""
    return client.containers.create(
        image, command=["sleep", "infinity"], user="root", working_dir="/workspace", init=True,
        cap_drop=["ALL"], cap_add=ROOT_CAPABILITIES, security_opt=["no-new-privileges"], network_mode=network,
        volumes=volumes or {}, labels={LABEL: "1", BUILD_LABEL: purpose, **owner_labels()})


def exec_stream(client: Any, container: Any, script: str, user: str, env: dict[str, str],
                progress: Progress, keep: int = 40) -> tuple[int, str]:
    """Run SCRIPT with sh in CONTAINER as USER, each output line to PROGRESS; (exit code, last KEEP lines)."""
    exec_id = client.api.exec_create(container.id, ["sh", "-c", script], user=user, environment=env,
                                     workdir="/workspace", stdout=True, stderr=True)["Id"]
    tail: list[str] = []
    pending = b""
    for chunk in client.api.exec_start(exec_id, stream=True, demux=False):
        pending += chunk
        *lines, pending = pending.split(b"\n")
        for raw in lines:
            line = raw.decode(errors="replace").rstrip("\r")
            tail = (tail + [line])[-keep:]
            if line.strip():
                progress(line)
    if pending.strip():
        tail = (tail + [pending.decode(errors="replace")])[-keep:]
        progress(tail[-1])
    code = client.api.exec_inspect(exec_id).get("ExitCode")
    return (code if code is not None else -1), "\n".join(tail)


def put_repo(container: Any, repo: Path, ca_bundle: bytes | None) -> None:
    """The repo into /workspace (owned by uid 1000), its file list (finish_prepared removes those again) and the
    host CA bundle at HOST_CA_PATH."""
    container.put_archive("/workspace", repo_tar(repo))
    listing = b"\0".join(os.fsencode(f) for f in repo_files(repo)) + b"\0"
    container.put_archive("/", _single_file_tar("tmp/coder-repo-files", listing))
    if ca_bundle is not None:
        container.put_archive("/", _single_file_tar(HOST_CA_PATH.lstrip("/"), ca_bundle))


# Only what setup produced is kept (node_modules, build output...); the repo's own files always come fresh from the
# host at run time, so a file deleted since the build cannot come back.
FINISH_PREPARED = ("cp -a /workspace/. /opt/coder/prepared/ && cd /opt/coder/prepared && "
                   "xargs -0 rm -f -- < /tmp/coder-repo-files && chown -R 1000:1000 /opt/coder/prepared && "
                   f"rm -rf {HOST_CA_PATH} /tmp/coder-repo-files /tmp/* /home/coder/.cache /root/.cache")


def ensure_setup_image(client: Any, repo: Path, setup_command: str, image: str,
                       progress: Progress = lambda _: None) -> str:
    """An image with the repo's setup command already run as root (with network), cached by setup_key().

    The command is the user's own (sandbox.setup from their config; repo files cannot set it), so it runs as root,
    but with only ROOT_CAPABILITIES and no-new-privileges."""
    import docker

    base_id = client.images.get(image).id
    tag = f"{SETUP_REPO}:{setup_key(repo, setup_command, base_id)}"
    try:
        client.images.get(tag)
        return tag
    except docker.errors.ImageNotFound:
        pass
    progress(f"running setup command `{setup_command}` (network on, cached as {tag}) ...")
    env = {"PIP_BREAK_SYSTEM_PACKAGES": "1", "HOME": "/root", "DEBIAN_FRONTEND": "noninteractive"}
    host_ca = _host_ca_bundle()
    if host_ca is not None:  # corporate proxies and private mirrors: trust what the host trusts, during setup only
        env.update({name: HOST_CA_PATH for name in CA_VARIABLES})
    container = create_build_container(client, image, "setup")
    with slow_engine_calls(client):
        _run_setup(client, container, repo, setup_command, host_ca, env, tag, progress)
    return tag


def _run_setup(client: Any, container: Any, repo: Path, setup_command: str, host_ca: bytes | None,
               env: dict[str, str], tag: str, progress: Progress) -> None:
    try:
        put_repo(container, repo, host_ca)
        container.start()
        code, output = exec_stream(client, container, f"cd /workspace && (\n{setup_command}\n)", "root", env,
                                   lambda _: None)
        for line in output.splitlines()[-20:]:
            progress(line)
        if code != 0:
            raise ImageBuildError(f"the setup command `{setup_command}` failed (exit {code}):\n{output[-2000:]}")
        code, output = exec_stream(client, container, FINISH_PREPARED, "root", {}, progress)
        if code != 0:
            raise ImageBuildError(f"keeping the setup's output failed (exit {code}):\n{output[-2000:]}")
        container.stop(timeout=1)
        container.commit(repository=SETUP_REPO, tag=tag.split(":", 1)[1],
                         changes=["USER coder", "WORKDIR /workspace", f"LABEL {LABEL}=1"])
    finally:
        container.remove(force=True)
