"""LocalSandbox: a temporary copy of the repo and the tool server as a subprocess (no Docker needed).

It isolates the user's files (the agent edits a copy) and the environment (no host variables pass in), but it is
not a security boundary: commands run as the current user. Use DockerSandbox for untrusted work.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import Any

from coder.resources import tools_path

from .base import SandboxError, WorkspaceOptions
from .repo_copy import copy_repo
from .rpc import JsonRpcClient, PipeReader, ToolServerCalls, result_field



def sandbox_env(home: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    """A minimal environment: PATH (with this Python first), locale, a private HOME; no host secrets."""
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "/usr/bin:/bin")])
    env = {
        "PATH": path,
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "TERM": "dumb",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONUNBUFFERED": "1",
        "PYTHONPATH": str(tools_path()),
        "GIT_CONFIG_NOSYSTEM": "1",
        "TMPDIR": str(home / "tmp"),
        "GOFLAGS": "-mod=mod",
        "GOCACHE": str(home / ".cache" / "go-build"),
        "GOPATH": str(home / "go"),
    }
    env.update(extra or {})
    return env


class LocalSession(ToolServerCalls):
    """A running local sandbox session."""

    name = "local"

    def __init__(self, repo: Path, options: WorkspaceOptions) -> None:
        self.options = options
        self.root = Path(tempfile.mkdtemp(prefix="coder-sandbox-"))
        self.workdir = self.root / "workspace"
        home = self.root / "home"
        (home / "tmp").mkdir(parents=True)
        self._proc: subprocess.Popen[bytes] | None = None
        try:
            copy_repo(repo, self.workdir)
            self._stderr = open(self.root / "toolserver.log", "wb")
            self._proc = subprocess.Popen(
                [sys.executable, "-P", "-m", "coder_tools.server"],
                cwd=self.workdir,
                env=sandbox_env(home),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=self._stderr,
                start_new_session=True,
            )
            assert self._proc.stdin is not None and self._proc.stdout is not None
            self._rpc = JsonRpcClient(self._proc.stdin, PipeReader(self._proc.stdout), self._server_log_tail)
            init = self._rpc.request("initialize", {"root": str(self.workdir), "options": asdict(options)}, timeout=60)
            self.base: str = result_field(init, "base", str)
            self.tool_schemas: list[dict[str, Any]] = result_field(init, "tools", list)
        except BaseException:
            self.close()
            raise

    def _server_log_tail(self) -> str:
        try:
            text = (self.root / "toolserver.log").read_text(errors="replace")
        except OSError:
            return ""
        return f"Tool server log: {text[-2000:]}" if text.strip() else ""

    def close(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None:
            try:
                if proc.poll() is None:
                    try:
                        self._rpc.request("shutdown", {}, timeout=5)
                    except (SandboxError, AttributeError):
                        pass
                    try:
                        proc.wait(timeout=5)
                    except subprocess.TimeoutExpired:
                        pass
            finally:
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
                proc.wait()
                for stream in (proc.stdin, proc.stdout):
                    if stream is not None:
                        try:
                            stream.close()
                        except OSError:
                            pass
        stderr = getattr(self, "_stderr", None)
        if stderr is not None and not stderr.closed:
            stderr.close()
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> "LocalSession":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class LocalSandbox:
    """Sandbox factory: a temp directory per session."""

    name = "local"

    def open(self, repo: Path, options: WorkspaceOptions) -> LocalSession:
        return LocalSession(repo, options)
