"""Open a sandbox on the task's repo and judge its baseline test run before any model exists."""

from __future__ import annotations

from contextlib import ExitStack
from dataclasses import dataclass

from coder_tools.base import ToolResult, WorkspaceOptions

from ..config import Config
from ..envs.preflight import Problem, judge
from ..errors import UsageError
from ..sandboxes.base import Sandbox, SandboxError, SandboxSession
from ..task import Task


@dataclass
class CheckedSandbox:
    """A sandbox opened and its baseline test run judged (envs.preflight), before any model call.

    `coder fix` opens one before it builds the model, so tests that cannot run never start (or download) one, and
    hands it to the AgentSession, which owns it from then on. close() removes the sandbox; safe to call twice."""

    session: SandboxSession
    baseline: ToolResult | None  # None when agent.baseline_tests is off
    problem: Problem | None
    stack: ExitStack

    def close(self) -> None:
        self.stack.close()

    def __enter__(self) -> CheckedSandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def workspace_options(config: Config, task: Task) -> WorkspaceOptions:
    """What the tool server is told at start: the test command, the per-test and command timeouts, the output cap."""
    return WorkspaceOptions(test_command=config.tests.command or task.test_command,
                            bash_timeout=config.sandbox.bash_timeout, output_cap=config.sandbox.output_cap,
                            test_timeout=config.tests.timeout or task.test_timeout)


def open_checked(sandbox: Sandbox, task: Task, config: Config) -> CheckedSandbox:
    """Open SANDBOX on the task's repo and run and judge the baseline tests (when agent.baseline_tests is on).

    Raises SandboxError when the sandbox cannot start; a KeyboardInterrupt on the way leaves nothing behind."""
    stack = ExitStack()
    try:
        session = stack.enter_context(sandbox.open(task.repo, workspace_options(config, task)))
        baseline = session.call("run_tests", {}) if config.agent.baseline_tests else None
    except BaseException:
        stack.close()
        raise
    problem = judge(baseline, task.repo.resolve()) if baseline is not None else None
    return CheckedSandbox(session, baseline, problem, stack)


def open_checked_or_refuse(sandbox: Sandbox, task: Task, config: Config) -> CheckedSandbox:
    """open_checked for the command line (`coder fix`, `coder tui`): UsageError, one line and exit code 2, when the
    sandbox cannot start or the tests cannot run in it."""
    try:
        checked = open_checked(sandbox, task, config)
    except SandboxError as exc:
        raise UsageError(f"sandbox error: {exc}") from exc
    if checked.problem is not None:
        checked.close()
        raise UsageError(checked.problem.message)
    return checked
