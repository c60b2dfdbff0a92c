"""`coder doctor`'s environment section: what the repository needs, its image, and how many tests the baseline finds."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from .visible import visible_line

__all__ = ["environment_report", "render_lines"]

NOT_BUILT = "not built: run `coder env build`"


def environment_report(config: Any, repo: Path, progress: Callable[[str], None] = lambda _: None) -> dict[str, Any]:
    """The detected environment, its image tag and whether it is built, and the baseline's test count: in Docker on the
    built image; not counted when Docker works but the image is not built (counting would mean building it); in the
    local sandbox when there is no Docker. Never raises: a failure becomes the report's 'error'."""
    from .apply import is_git_toplevel
    from .env_cli import EnvCliError, environment_state
    from .sandboxes.base import SandboxError
    from .sandboxes.docker import docker_client

    report: dict[str, Any] = {"repo": str(repo)}
    if not repo.is_dir() or not is_git_toplevel(repo):
        report["error"] = f"{repo} is not the top of a git repository (pass --repo)"
        return report
    try:
        client: Any = docker_client(timeout=5)
    except SandboxError as exc:
        client, report["docker"] = None, f"not reachable ({exc})"
    try:
        spec, fields = environment_state(config, repo, client)
        report.update(fields)
        if client is None:
            report["image_detail"] = "Docker is not reachable: no environment image; tests counted in the local sandbox"
            report["baseline_tests"] = _count_tests(config, repo, None, progress)
        elif fields["image_built"]:
            report["baseline_tests"] = _count_tests(config, repo, (client, spec, fields), progress)
        else:
            report["baseline_tests"] = f"not counted: the environment image is {fields.get('image_detail', NOT_BUILT)}"
    except (EnvCliError, SandboxError, OSError, ValueError) as exc:
        report["error"] = visible_line(str(exc))[:300]
    except Exception as exc:  # the doctor reports; it does not crash on a detector or engine it did not expect
        report["error"] = visible_line(f"{type(exc).__name__}: {exc}")[:300]
    return report


def _count_tests(config: Any, repo: Path, docker: tuple[Any, Any, dict[str, Any]] | None,
                 progress: Callable[[str], None]) -> dict[str, Any] | str:
    """Open the sandbox (Docker on the env image, or local), run the tests once, and count what the run found."""
    from .agent.sandbox_check import workspace_options
    from .sandboxes.base import SandboxError
    from .task import Task

    options = workspace_options(config, Task(repo=repo))  # what `coder fix` tells the tool server
    if docker is None:
        from .sandboxes.local import LocalSandbox

        sandbox: Any = LocalSandbox()
    else:
        from .envs import ensure_env_image
        from .factories import docker_limits
        from .sandboxes.docker import DockerSandbox

        client, spec, fields = docker
        image = ensure_env_image(client, repo, spec, fields["sandbox_image"], progress)  # built: a cache hit
        sandbox = DockerSandbox(image=image.tag, limits=docker_limits(config.sandbox), client=client, env=image.env)
    progress(f"running the tests once in the {sandbox.name} sandbox to count them ...")
    try:
        with sandbox.open(repo, options) as session:
            result = session.call("run_tests", {})
    except SandboxError as exc:
        return f"not counted: the {sandbox.name} sandbox failed ({visible_line(str(exc))[:200]})"
    from .envs.preflight import judge

    problem = judge(result, repo)  # the same judgement that stops `coder fix` before its first model call
    if not result.ok:
        return f"not counted: {visible_line(problem.message if problem else result.output)[:300]}"
    data = result.data
    counts = {k: int(data.get(k, 0) or 0) for k in ("passed", "failed", "errors", "skipped")}
    found: dict[str, Any] = {"found": len(data.get("tests") or {}) or sum(counts.values()), **counts,
                             "runner": data.get("runner"), "command": data.get("command"), "sandbox": sandbox.name}
    if problem:
        found["problem"] = problem.message
    return found


def render_lines(report: dict[str, Any], width: int = 32) -> list[str]:
    """The environment section as aligned 'key: value' lines, everything from the repository made visible."""
    lines = []
    for key, value in report.items():
        if key == "baseline_tests" and isinstance(value, dict):
            value = (f"{value['found']} found ({value['passed']} passed, {value['failed']} failed, {value['errors']} "
                     f"errors, {value['skipped']} skipped) by {value['runner']} in the {value['sandbox']} sandbox: "
                     f"{value['command']}" + (f"; {value['problem']}" if value.get("problem") else ""))
        elif isinstance(value, list):
            value = ", ".join(map(str, value)) or "-"
        lines.append(f"{key.replace('_', ' '):>{width}}: {visible_line(str(value))}")
    return lines
