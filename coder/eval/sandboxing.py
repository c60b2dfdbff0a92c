"""Which sandbox each eval run gets: Docker (the sandbox image plus a toolchain layer and the task's setup, all cached
as images) when usable, else the local sandbox; DOCKER_HOST picks the engine, as for every docker client."""

from __future__ import annotations

import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..config import ConfigError, SandboxConfig
from ..sandboxes.base import Sandbox, SandboxError
from .tasks import EvalTask, run_setup_locally

# Test runners for the languages of tasks/ (the same command the test suite's toolchain image uses, so the cached
# image is shared). Needs a Debian-based sandbox image (coder-base:bookworm, or python:3.11-slim with apt).
DEFAULT_TOOLCHAIN = ("apt-get update -qq && apt-get install -y -qq --no-install-recommends python3-pytest nodejs "
                     "golang-go >/dev/null && rm -rf /var/lib/apt/lists/*")

Progress = Callable[[str], None]
_build_lock = threading.Lock()


@dataclass
class SandboxPlan:
    """Plain data (picklable for Ray): the sandbox kind, the image per task and the container limits."""

    kind: str  # "docker" or "local"
    base_image: str = ""
    toolchain: str | None = None
    limits: dict[str, object] = field(default_factory=dict)
    images: dict[str, str] = field(default_factory=dict)

    def prepare(self, task: EvalTask, checkout: Path, progress: Progress = lambda _: None) -> None:
        """Make the task runnable here: its Docker image (built once, cached by hash), or its setup run locally."""
        if self.kind == "local":
            if task.setup:
                run_setup_locally(checkout, task.setup)
            return
        from ..sandboxes.docker import docker_client
        from ..sandboxes.docker_image import ensure_setup_image

        client = docker_client()
        with _build_lock, tempfile.TemporaryDirectory(prefix="coder-toolchain-") as empty:
            image = self.base_image
            if self.toolchain:
                subprocess.run(["git", "init", "-q"], cwd=empty, check=True)
                image = ensure_setup_image(client, Path(empty), self.toolchain, image, progress)
            if task.setup:
                image = ensure_setup_image(client, checkout, task.setup, image, progress)
        self.images[task.id] = image

    def sandbox(self, task_id: str) -> Sandbox:
        """A new sandbox factory for one run (each with its own Docker client: workers are threads)."""
        if self.kind == "local":
            from ..sandboxes.local import LocalSandbox

            return LocalSandbox()
        from ..sandboxes.docker import DockerLimits, DockerSandbox

        return DockerSandbox(image=self.images[task_id], limits=DockerLimits(**self.limits))  # type: ignore[arg-type]


def local_pytest_refusal(tasks: Sequence[EvalTask]) -> str | None:
    """Why the local sandbox cannot run these tasks, or None: they name pytest test ids, but the interpreter the local
    sandbox would run their tests with has no pytest. It would fall back to unittest, whose ids never match pytest's,
    and every task would grade as unresolved, the reference fixes too."""
    needs = [t.id for t in tasks if t.language == "python" and not t.test_command
             and any(".py::" in i for i in (*t.fail_to_pass, *t.pass_to_pass))]
    if not needs:
        return None
    from coder_tools.testrun_detect import pytest_available

    from ..sandboxes.local_project import find_project_env

    with tempfile.TemporaryDirectory(prefix="coder-probe-") as empty:
        python = find_project_env(Path(empty)).python or sys.executable
    if pytest_available(python):
        return None
    shown = ", ".join(needs[:3]) + (", ..." if len(needs) > 3 else "")
    return (f"{len(needs)} task(s) ({shown}) name pytest test ids, but {python}, which runs the local sandbox's tests, "
            f"has no pytest: install it (`{python} -m pip install pytest`) or use --sandbox docker")


def plan_sandboxes(config: SandboxConfig, toolchain: str | None) -> tuple[SandboxPlan, str | None]:
    """(plan, warning): Docker when asked for or usable under 'auto'; the local sandbox otherwise."""
    if config.kind == "local":
        return SandboxPlan("local"), None
    try:
        from ..factories import built_sandbox_image
        from ..sandboxes.docker import docker_client

        image = built_sandbox_image(docker_client(), config)
    except SandboxError as exc:
        if config.kind == "docker":
            raise ConfigError(str(exc)) from exc
        return SandboxPlan("local"), f"{exc}; falling back to the local sandbox (a temporary copy, not isolated)"
    limits = {"memory": config.memory, "cpus": config.cpus, "pids": config.pids,
              "workspace_size": config.workspace_size}
    return SandboxPlan("docker", base_image=image, toolchain=toolchain, limits=limits), None
