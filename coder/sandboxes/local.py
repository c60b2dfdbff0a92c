"""LocalSandbox: a temporary copy of the repo and the tool server as a subprocess (no Docker needed).

It isolates the user's files (the agent edits a copy) and the environment (no host variables pass in), but it is
not a security boundary: commands run as the current user. Use DockerSandbox for untrusted work. The tests run in
the project's own environment (its virtualenv, node_modules: coder.sandboxes.local_project); describe() says which.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import asdict, replace
from pathlib import Path

from coder.resources import tools_path
from coder.sandboxes.local_project import ProjectEnv, find_project_env, link_node_modules

from .base import SandboxError, WorkspaceOptions
from .repo_copy import copy_repo
from .rpc import JsonRpcClient, PipeReader, ToolServerCalls, result_field


def sandbox_env(home: Path, extra: dict[str, str] | None = None, path_prefix: Sequence[str] = ()) -> dict[str, str]:
    """A minimal environment: PATH (PATH_PREFIX, then this Python), locale, a private HOME; no host secrets."""
    path = os.pathsep.join([*path_prefix, str(Path(sys.executable).parent), os.environ.get("PATH", "/usr/bin:/bin")])
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

    def __init__(self, repo: Path, options: WorkspaceOptions, project: ProjectEnv | None = None) -> None:
        project = project or ProjectEnv()
        self.options = options
        self.root = Path(tempfile.mkdtemp(prefix="coder-sandbox-"))
        self.workdir = self.root / "workspace"
        home = self.root / "home"
        (home / "tmp").mkdir(parents=True)
        self._proc: subprocess.Popen[bytes] | None = None
        try:
            copy_repo(repo, self.workdir)
            if project.node_modules is not None:
                link_node_modules(project.node_modules, self.workdir)
            self.options = options = _with_project(options, project, self.workdir)
            extra = {"VIRTUAL_ENV": str(project.venv)} if project.venv is not None else {}
            self._stderr = open(self.root / "toolserver.log", "wb")
            self._proc = subprocess.Popen(
                [sys.executable, "-P", "-m", "coder_tools.server"],
                cwd=self.workdir,
                env=sandbox_env(home, extra, project.path_prefix(self.workdir)),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=self._stderr,
                start_new_session=True,
            )
            assert self._proc.stdin is not None and self._proc.stdout is not None
            self._rpc = JsonRpcClient(self._proc.stdin, PipeReader(self._proc.stdout), self._server_log_tail)
            init = self._rpc.request("initialize", {"root": str(self.workdir), "options": asdict(options)}, timeout=60)
            result_field(init, "base", str)  # a server that answers otherwise did not start right
            result_field(init, "tools", list)
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

    def __enter__(self) -> LocalSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _with_project(options: WorkspaceOptions, project: ProjectEnv, workdir: Path) -> WorkspaceOptions:
    """OPTIONS with the project's interpreter (unless one was given) and its editable paths mapped to the copy."""
    env = dict(options.env)
    paths = project.pythonpath(workdir)
    if paths and "PYTHONPATH" not in env:
        env["PYTHONPATH"] = os.pathsep.join([*paths, str(tools_path())])
    return replace(options, python=options.python or project.python, env=env)


class LocalSandbox:
    """Sandbox factory: a temp directory per session, the tests run in the project's environment.

    project=False runs them with coder's own interpreter and no node_modules (the behaviour before projects were
    looked for)."""

    name = "local"

    def __init__(self, project: bool = True) -> None:
        self.project = project
        self._found: dict[Path, ProjectEnv] = {}

    def project_env(self, repo: Path) -> ProjectEnv:
        """The environment found for REPO (looked up once per sandbox object)."""
        if not self.project:
            return ProjectEnv()
        key = repo.resolve()
        if key not in self._found:
            self._found[key] = find_project_env(key)
        return self._found[key]

    def describe(self, repo: Path) -> str:
        """One line for the user: which interpreter the tests of REPO will run with, and why."""
        return self.project_env(repo).describe()

    def open(self, repo: Path, options: WorkspaceOptions) -> LocalSession:
        return LocalSession(repo, options, self.project_env(repo))
