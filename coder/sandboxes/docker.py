"""DockerSandbox: the repo copied into a locked-down container; the tool server is its main process, spoken to over
one attached stdin/stdout stream.

Defaults: no network, commands as uid 1000 without capabilities, a tool server that commands cannot reach (it starts
as root with only CAP_SETUID/SETGID/SETPCAP and gives them up before its first request: coder_tools/identity.py),
no-new-privileges, a seccomp profile (seccomp.py), a read-only root filesystem with size- and inode-limited tmpfs for
/workspace, /tmp and HOME, memory/CPU/pids limits, an init process, no host environment and no Docker socket. Containers carry the label org.coder.sandbox and are removed on close (also on exceptions and
Ctrl-C); because the tool server is PID 1's only child and exits on EOF, even a killed host leaves only a stopped
container, which `coder sandbox prune` removes.
"""

from __future__ import annotations

import re
import secrets
import socket
from collections import deque
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from .base import SandboxError, WorkspaceOptions
from .docker_image import LABEL, image_tag, repo_tar
from .owner import liveness, owner_labels, owner_pid
from .rpc import MAX_MESSAGE, JsonRpcClient, LineReader, ToolServerCalls, result_field
from .seccomp import security_opt

TOOLS_PYTHON = "/opt/coder/venv/bin/python"
COMMAND_UID = 1000  # the image's coder user; commands and the workspace files belong to it (coder_tools/identity.py)
INODE_BYTES = 2048  # kernel memory charged per tmpfs inode, with a margin (inode + dentry are about 1 KiB)
# The tool server starts as root with these and nothing else, only to give itself an identity commands cannot reach.
SERVER_CAPABILITIES = ["SETUID", "SETGID", "SETPCAP"]
TOOLS_PATH = "/opt/coder/lib"
CONTAINER_ENV = {
    "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "HOME": "/home/coder",
    "LANG": "C.UTF-8",
    "TERM": "dumb",
    "PYTHONDONTWRITEBYTECODE": "1",
    "PYTHONUNBUFFERED": "1",
    "TMPDIR": "/tmp",
}
# Variables an environment image may not change: where commands keep their files, and the dynamic loader's.
FIXED_ENV = ("HOME", "TMPDIR", "PYTHONDONTWRITEBYTECODE", "PYTHONPATH", "LD_PRELOAD", "LD_LIBRARY_PATH")


def command_env(extra: dict[str, str] | None) -> dict[str, str]:
    """An environment image's runtime variables (PATH with its venv first, GOFLAGS...) for the commands and tests,
    without FIXED_ENV. They are merged over CONTAINER_ENV by the tool server for each command it starts, never for
    the tool server itself: a dependency's executable named `git` in the venv's bin must not run as the server."""
    return {k: v for k, v in (extra or {}).items() if k not in FIXED_ENV and (k != "PATH" or v)}


@dataclass(frozen=True)
class DockerLimits:
    """Resource limits of a sandbox container.

    memory is what processes may use. The tmpfs mounts are charged to the same memory cgroup, so the container's
    limit is memory plus their sizes: a command that fills /workspace or /tmp then gets "No space left on device"
    instead of leaving no memory for anything and getting the tool server OOM-killed.
    """

    memory: str = "2g"
    cpus: float = 2.0
    pids: int = 512
    workspace_size: str = "2g"
    tmp_size: str = "1g"
    home_size: str = "512m"
    # Files and directories each tmpfs may hold. Every inode costs kernel memory charged to the container (about 1 KiB
    # with its dentry) that the size= limit does not count: 900k empty files once left no memory for the tool server.
    workspace_inodes: int = 400_000
    tmp_inodes: int = 100_000
    home_inodes: int = 50_000

    def container_memory(self) -> int:
        """Bytes for the container's memory (and memory+swap) limit: processes, full tmpfs mounts and their inodes."""
        sizes = sum(size_bytes(s) for s in (self.memory, self.workspace_size, self.tmp_size, self.home_size))
        return sizes + INODE_BYTES * (self.workspace_inodes + self.tmp_inodes + self.home_inodes)

    def tmpfs(self) -> dict[str, str]:
        """The container's tmpfs mounts with their size and inode limits."""
        owned = f"uid={COMMAND_UID},gid={COMMAND_UID},mode=0755"
        return {
            "/workspace": f"rw,exec,size={self.workspace_size},nr_inodes={self.workspace_inodes},{owned}",
            "/tmp": f"rw,exec,size={self.tmp_size},nr_inodes={self.tmp_inodes},mode=1777",
            "/home/coder": f"rw,exec,size={self.home_size},nr_inodes={self.home_inodes},{owned}",
        }


_SIZE = re.compile(r"(\d+(?:\.\d+)?)([kmgt]?)b?", re.IGNORECASE)


def size_bytes(size: str | int) -> int:
    """'512m', '2g', '1.5G', '1048576' -> bytes (Docker's units, powers of 1024); SandboxError if unreadable."""
    match = _SIZE.fullmatch(str(size).strip())
    if not match:
        raise SandboxError(f"unreadable size {size!r}: use a number with an optional k, m, g or t suffix, e.g. '2g'")
    return int(float(match.group(1)) * 1024 ** " kmgt".index(match.group(2).lower() or " "))


def docker_client(timeout: int = 10) -> Any:
    """A Docker client that has answered a ping, or SandboxError saying why not."""
    try:
        import docker

        client = docker.from_env(timeout=timeout)
        client.ping()
        return client
    except Exception as exc:  # docker raises many types for "no engine"
        raise SandboxError(f"no Docker engine is reachable ({exc.__class__.__name__}: {str(exc)[:200]})") from exc


class _FrameReader(LineReader):
    """Demultiplexes Docker's attach stream: stdout frames become lines, stderr is kept for diagnostics."""

    def __init__(self, sock: Any, max_line: int = MAX_MESSAGE) -> None:
        super().__init__(max_line)
        self._sock = sock
        self.stderr: deque[bytes] = deque(maxlen=64)

    def _read_exact(self, size: int) -> bytes:
        chunks, got = [], 0
        while got < size:
            chunk = self._sock.recv(min(size - got, 1 << 20))
            if not chunk:
                return b""
            chunks.append(chunk)
            got += len(chunk)
        return b"".join(chunks)

    def next_chunk(self) -> bytes:
        while True:
            header = self._read_exact(8)
            if len(header) < 8:
                return b""
            size = int.from_bytes(header[4:8], "big")
            payload = self._read_exact(size) if size else b""
            if size and not payload:
                return b""
            if header[0] == 1:
                return payload
            self.stderr.append(payload[-4096:])


class _SocketWriter:
    def __init__(self, sock: Any) -> None:
        self._sock = sock

    def write(self, data: bytes) -> int:
        self._sock.sendall(data)
        return len(data)

    def flush(self) -> None:
        pass


def _raw_socket(attached: Any) -> Any:
    return getattr(attached, "_sock", attached)


class DockerSession(ToolServerCalls):
    """A running sandbox container with its tool server."""

    name = "docker"

    def __init__(self, client: Any, image: str, repo: Path, options: WorkspaceOptions, limits: DockerLimits,
                 env: dict[str, str] | None = None) -> None:
        self.client = client
        self.env = command_env(env)
        self.options = options
        self.container: Any = None
        self._sock: Any = None
        self.run_id = secrets.token_hex(6)
        try:
            self._start(image, repo, limits)
        except BaseException:
            self.close()
            raise

    def _start(self, image: str, repo: Path, limits: DockerLimits) -> None:
        import docker

        tar = repo_tar(repo)  # fails early (not a git repo) before any container exists
        memory = limits.container_memory()
        try:
            self.container = self.client.containers.create(
                image,
                command=["env", f"PYTHONPATH={TOOLS_PATH}", TOOLS_PYTHON, "-P", "-m", "coder_tools.server",
                         "--separate-users"],
                user="0:0", working_dir="/workspace", environment=CONTAINER_ENV, stdin_open=True,
                network_mode="none", cap_drop=["ALL"], cap_add=SERVER_CAPABILITIES,
                security_opt=["no-new-privileges", security_opt()], read_only=True, tmpfs=limits.tmpfs(),
                mem_limit=memory, memswap_limit=memory, nano_cpus=int(limits.cpus * 1e9),
                pids_limit=limits.pids, init=True, labels={LABEL: "1", "org.coder.run": self.run_id, **owner_labels()},
            )
        except docker.errors.ImageNotFound as exc:
            raise SandboxError(f"sandbox image {image} not found: build it with `coder sandbox build`") from exc
        except docker.errors.APIError as exc:
            raise SandboxError(f"could not create the sandbox container: {exc.explanation or exc}") from exc
        attached = self.client.api.attach_socket(self.container.id, params={"stdin": 1, "stdout": 1, "stderr": 1,
                                                                            "stream": 1})
        self._attached = attached  # never read, but kept: it holds the HTTP response that owns the socket
        self._sock = _raw_socket(attached)
        self.container.start()
        self._copy_in(tar)
        self._reader = _FrameReader(self._sock)
        self._rpc = JsonRpcClient(_SocketWriter(self._sock), self._reader, self._describe_failure)
        venv = self.env.get("VIRTUAL_ENV")
        python = self.options.python or (f"{venv}/bin/python3" if venv else "python3")
        opts = {**asdict(self.options), "python": python, "env": {**self.env, **self.options.env}, "kill_strays": True}
        init = self._rpc.request("initialize", {"root": "/workspace", "options": opts}, timeout=60)
        result_field(init, "base", str)  # a server that answers otherwise did not start right
        result_field(init, "tools", list)

    def _copy_in(self, tar: bytes) -> None:
        """Stream the repo into the tmpfs workspace through `tar -x` (put_archive cannot write into a tmpfs)."""
        script = "cp -a /opt/coder/prepared/. /workspace/ 2>/dev/null; exec tar -x -C /workspace -f -"
        exec_id = self.client.api.exec_create(self.container.id, ["sh", "-c", script], stdin=True, stdout=True,
                                              stderr=True, user=f"{COMMAND_UID}:{COMMAND_UID}")["Id"]
        attached = self.client.api.exec_start(exec_id, socket=True)
        sock = _raw_socket(attached)
        try:
            sock.sendall(tar)
            sock.shutdown(socket.SHUT_WR)
            reader = _FrameReader(sock)
            while reader.readline():
                pass
        finally:
            sock.close()
        result = self.client.api.exec_inspect(exec_id)
        if result.get("ExitCode") not in (0, None):
            raise SandboxError(f"copying the repository into the sandbox failed: {b''.join(reader.stderr)[-500:]!r}")

    def _describe_failure(self) -> str:
        stderr = b"".join(getattr(self, "_reader", _FrameReader(None)).stderr).decode(errors="replace").strip()
        state = ""
        try:
            self.container.reload()
            info = self.container.attrs.get("State", {})
            state = f"container {info.get('Status')}, exit code {info.get('ExitCode')}, OOM killed {info.get('OOMKilled')}"
        except Exception:
            state = "container gone"
        return f"({state}) {stderr[-1500:]}".strip()

    def close(self) -> None:
        container, self.container = self.container, None
        rpc = getattr(self, "_rpc", None)
        if rpc is not None and rpc.alive and container is not None:
            try:
                rpc.request("shutdown", {}, timeout=3)
            except SandboxError:
                pass
        if self._sock is not None:
            try:
                self._sock.close()
            except OSError:
                pass
            self._sock = None
        if container is not None:
            try:
                container.remove(force=True)
            except Exception:  # already gone (NotFound) or the engine hiccuped: prune catches the rest
                pass

    def __enter__(self) -> DockerSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class DockerSandbox:
    """Sandbox factory: one locked-down container per session."""

    name = "docker"

    def __init__(self, image: str | None = None, limits: DockerLimits | None = None, client: Any = None,
                 env: dict[str, str] | None = None) -> None:
        self.image = image or image_tag()
        self.limits = limits or DockerLimits()
        self._client = client
        self.env = dict(env or {})  # the environment image's runtime variables (EnvImage.env)

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = docker_client()
        return self._client

    def open(self, repo: Path, options: WorkspaceOptions) -> DockerSession:
        return DockerSession(self.client, self.image, repo, options, self.limits, self.env)


def prune(client: Any, everything: bool = False) -> tuple[int, int]:
    """Remove the coder sandbox containers left behind: (removed, kept).

    Kept, unless EVERYTHING: containers whose owning coder process still runs on this host, and those owned by a
    process on another host (a shared engine), whose liveness cannot be told from here."""
    removed = kept = 0
    for container in client.containers.list(all=True, filters={"label": LABEL}):
        labels = container.labels or {}
        if not everything and (liveness(labels) == "alive" or (liveness(labels) == "unknown" and owner_pid(labels))):
            kept += 1
            continue
        try:
            container.remove(force=True)
            removed += 1
        except Exception:
            continue
    return removed, kept
