"""The unprivileged agent job: decide, run the agent on the issue, and leave patch + trajectory + summary behind.

It holds a read-only token and the model endpoint's secret only. It never applies the patch, never pushes and never
comments: the issue text (untrusted) goes to the model as the task and nowhere else.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import git

from ..agent import Agent
from ..config import Config, ConfigError
from ..errors import CoderError
from ..events import (
    EVENT_TYPES,
    CandidateTried,
    Event,
    FileEdited,
    HintGiven,
    PlanUpdated,
    RunFinished,
    TestsRan,
    ToolCallRejected,
)
from ..models.base import Model
from ..sandboxes.base import Sandbox
from ..task import Task
from .artifacts import PATCH, TRAJECTORY, RunSummary, Usage, write_summary
from .client import GitHubClient, GitHubError
from .context import ActionContext
from .trigger import Decision, decide, issue_text

__all__ = ["AgentJobError", "Builder", "RunCollector", "agent_job", "require_env_image", "run_agent"]

# (config, stack) -> (model, sandbox, warning); the CLI builds the configured model and sandbox, tests script them.
Builder = Callable[[Config, ExitStack], tuple[Model, Sandbox, "str | None"]]


class AgentJobError(CoderError):
    """The agent job could not run (its summary says why); a one-line message."""


@dataclass
class RunCollector:
    """Consumes every event of a run and keeps what the summary needs."""

    handled_types: ClassVar[frozenset[str]] = frozenset({
        "plan_updated", "file_edited", "tests_ran", "tool_call_rejected", "hint_given", "candidate_tried",
        "run_finished"})
    plan: list[str] = field(default_factory=list)
    edited: list[str] = field(default_factory=list)
    test_runs: int = 0
    rejected: int = 0
    hints: int = 0
    candidates: int = 0
    final: RunFinished | None = None

    def __call__(self, event: Event) -> None:
        if isinstance(event, PlanUpdated):
            self.plan = list(event.steps)
        elif isinstance(event, FileEdited):
            if event.path not in self.edited:
                self.edited.append(event.path)
        elif isinstance(event, TestsRan):
            self.test_runs += 1
        elif isinstance(event, ToolCallRejected):
            self.rejected += 1
        elif isinstance(event, HintGiven):
            self.hints += 1
        elif isinstance(event, CandidateTried):
            self.candidates += 1
        elif isinstance(event, RunFinished):
            self.final = event
        elif event.type not in EVENT_TYPES:
            raise ValueError(f"unknown event type {event.type!r}")


def require_env_image(config: Config, repo: Path) -> None:
    """The agent step runs on an environment image the step before it built (`coder env build`); it never runs the
    repository's install (its code, with network) itself. AgentJobError when the image it would use is not built.

    Nothing to check with the local sandbox, sandbox.environment = "none", or no engine or sandbox image (choosing the
    sandbox then says so: an error under kind "docker", the local fallback under "auto")."""
    if config.sandbox.kind == "local" or config.sandbox.environment != "auto":
        return
    from ..envs import detect_environment, env_image_built, env_image_tag
    from ..factories import built_sandbox_image
    from ..sandboxes.base import SandboxError
    from ..sandboxes.docker import docker_client

    try:
        client = docker_client()
        base = built_sandbox_image(client, config.sandbox)
    except SandboxError:
        return
    tag = env_image_tag(client, repo, detect_environment(repo, config.sandbox.setup), base)
    if not env_image_built(client, tag):
        raise AgentJobError(f"the environment image {tag} is not built: the step before the agent builds it (`coder "
                            "env build`, with the same setup input); the agent step never runs the repository's install")


def head_sha(repo: Path) -> str:
    try:
        return git.Repo(repo).head.commit.hexsha
    except (git.InvalidGitRepositoryError, git.NoSuchPathError, ValueError):
        return ""


def run_agent(agent: Agent, task: Task, issue: int, out: Path,
              on_event: Callable[[Event], None] = lambda _: None) -> RunSummary:
    """Run AGENT on TASK and write summary.json, patch.diff and trajectory.jsonl into OUT."""
    collector = RunCollector()
    with agent.session(task) as session:
        for event in session.start():
            collector(event)
            on_event(event)
    final = collector.final
    assert final is not None, "Agent.run always ends with RunFinished"
    out.mkdir(parents=True, exist_ok=True)
    if final.patch.strip():
        (out / PATCH).write_text(final.patch, encoding="utf-8", errors="surrogateescape")
    if session.trajectory_path.is_file():
        shutil.copyfile(session.trajectory_path, out / TRAJECTORY)
    summary = RunSummary(
        issue=issue, status=final.status, message=final.message, summary=final.summary, plan=collector.plan,
        fail_to_pass=list(final.fail_to_pass), still_failing=list(final.still_failing),
        pass_to_fail=list(final.pass_to_fail), steps=final.steps, elapsed=final.elapsed,
        usage=Usage(prompt_tokens=final.prompt_tokens, completion_tokens=final.completion_tokens,
                    cached_tokens=final.cached_tokens),
        model=agent.model.name, sandbox=agent.sandbox.name, base_sha=head_sha(task.repo),
        has_patch=bool(final.patch.strip()), candidates=collector.candidates, test_files=list(final.test_files))
    write_summary(out, summary)
    return summary


def _issue_title_body(ctx: ActionContext, decision: Decision) -> tuple[str, str]:
    """The issue's title and body: from the payload, or (workflow_dispatch) read with the job's read-only token."""
    issue = ctx.payload.get("issue")
    if isinstance(issue, dict) and issue.get("number") == decision.issue:
        return str(issue.get("title") or ""), str(issue.get("body") or "")
    assert decision.issue is not None
    try:
        with GitHubClient(ctx.token, ctx.repository, ctx.api_url) as client:
            fetched = client.get_issue(decision.issue)
    except GitHubError as exc:
        raise AgentJobError(f"cannot read issue #{decision.issue}: {exc}") from exc
    if fetched.is_pull_request:
        raise AgentJobError(f"#{decision.issue} is a pull request, not an issue")
    return fetched.title, fetched.body


def agent_job(ctx: ActionContext, repo: Path, out: Path, config: Config, build: Builder, label: str = "coder",
              issue_input: str | None = None, on_event: Callable[[Event], None] = lambda _: None,
              warn: Callable[[str], None] = lambda _: None) -> RunSummary:
    """Decide; when the event asks for a fix, run the agent and write the artifact. Always writes summary.json.

    Raises AgentJobError (after writing a summary with status "error") when the run could not start."""
    decision = decide(ctx.event_name, ctx.payload, label, issue_input)
    base: dict[str, Any] = {"issue": decision.issue, "decision": decision.action, "base_sha": head_sha(repo)}
    if decision.action != "run":
        summary = RunSummary(status="skipped", message=decision.reason, **base)
        write_summary(out, summary)
        return summary
    assert decision.issue is not None
    try:
        title, body = _issue_title_body(ctx, decision)
        task = Task(repo=repo, issue=issue_text(title, body, decision.note), test_command=config.tests.command)
        with ExitStack() as stack:
            model, sandbox, warning = build(config, stack)
            if warning:
                warn(warning)
            agent = Agent(model, sandbox, config, trajectory_dir=out / "trajectories")
            summary = run_agent(agent, task, decision.issue, out, on_event)
        shutil.rmtree(out / "trajectories", ignore_errors=True)
        return summary
    except (AgentJobError, ConfigError) as exc:
        write_summary(out, RunSummary(status="error", message=str(exc), **base))
        raise AgentJobError(str(exc)) from exc
