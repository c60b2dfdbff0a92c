"""The privileged publish job: no model, only checks, git and the REST API.

It re-decides from its own event payload (never from the artifact), answers refused comments, and for a resolved run
checks the patch, commits it on ``coder/issue-N``, pushes, opens or updates that branch's pull request and keeps one
status comment on the issue up to date. Anything that goes wrong is reported on the issue with a link to the run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import git

from .artifacts import ArtifactError, RunSummary, read_artifact
from .client import Comment, GitHubClient, GitHubError
from .context import ActionContext
from .gitops import PushRefused, commit_patch, push_branch
from .messages import failure_comment, marker, pull_body, pull_title, refusal_comment, status_comment
from .patch_policy import PatchPolicy, PatchRejected, check_patch
from .trigger import Decision, decide

__all__ = ["PublishOptions", "Outcome", "branch_for", "publish", "upsert_comment"]

Result = Literal["ignored", "refused", "published", "failed"]


@dataclass(frozen=True)
class PublishOptions:
    label: str = "coder"
    issue_input: str | None = None
    policy: PatchPolicy = PatchPolicy()
    agent_result: str = "success"  # the agent job's result (needs.agent.result): success, failure, cancelled
    remote: str = "origin"


@dataclass(frozen=True)
class Outcome:
    result: Result
    message: str
    issue: int | None = None
    pull_number: int | None = None
    pull_url: str = ""


def branch_for(issue: int) -> str:
    return f"coder/issue-{issue}"


def upsert_comment(client: GitHubClient, issue: int, kind: str, body: str) -> Comment:
    """Edit coder's own comment of KIND on ISSUE (found by its hidden marker, written by a bot) or post a new one."""
    tag = marker(kind, issue)
    for comment in reversed(client.list_comments(issue)):
        if tag in comment.body and comment.user_type == "Bot":
            return client.update_comment(comment.id, body)
    return client.create_comment(issue, body)


def _fail(client: GitHubClient, issue: int, reason: str, run_url: str, summary: RunSummary | None = None) -> Outcome:
    upsert_comment(client, issue, "status", failure_comment(issue, reason, run_url, summary))
    return Outcome("failed", reason, issue)


def _issue_title(ctx: ActionContext, client: GitHubClient, issue: int) -> str:
    payload_issue = ctx.payload.get("issue")
    if isinstance(payload_issue, dict) and payload_issue.get("number") == issue:
        return str(payload_issue.get("title") or "")
    return client.get_issue(issue).title


def publish(ctx: ActionContext, client: GitHubClient, repo_path: Path, artifact: Path | None,
            options: PublishOptions, log: Callable[[str], None] = lambda _: None) -> Outcome:
    """Act on the event: ignore it, refuse it politely, report the agent's failure, or publish its fix."""
    decision: Decision = decide(ctx.event_name, ctx.payload, options.label, options.issue_input)
    log(f"decision: {decision.action} ({decision.reason})")
    if decision.action in ("ignore", "invalid") or decision.issue is None:
        return Outcome("ignored", decision.reason, decision.issue)
    issue, run_url = decision.issue, ctx.run_url
    if decision.action == "refuse":
        upsert_comment(client, issue, "refusal", refusal_comment(issue, decision.actor, decision.reason, options.label))
        return Outcome("refused", decision.reason, issue)
    try:
        if artifact is None:
            raise ArtifactError("no artifact was downloaded")
        summary, patch = read_artifact(artifact, options.policy.max_bytes)
    except ArtifactError as exc:
        return _fail(client, issue, f"the agent job ended with result '{options.agent_result}' and its result is "
                                    f"unusable ({exc})", run_url)
    if summary.issue != issue:
        return _fail(client, issue, f"the agent's result is for issue {summary.issue}, not #{issue}", run_url)
    if summary.status != "resolved":
        reason = f"the agent run ended as '{summary.status}': {summary.message or 'no reason given'}"
        return _fail(client, issue, reason, run_url, summary)
    try:
        base = git.Repo(repo_path).head.commit.hexsha
        paths = check_patch(repo_path, base, patch, options.policy)
        log(f"patch accepted: {len(paths)} file(s) on {base[:12]}")
        title = _issue_title(ctx, client, issue)
        sha = commit_patch(repo_path, base, patch, pull_title(issue, title) + "\n\n" + summary.summary[:2000], issue)
        branch = branch_for(issue)
        pushed = push_branch(repo_path, options.remote, branch, sha, issue)
        log(f"branch {branch}: {pushed} ({sha[:12]})")
    except (PatchRejected, PushRefused) as exc:
        return _fail(client, issue, str(exc), run_url, summary)
    body = pull_body(summary, issue, paths, run_url)
    existing = client.find_open_pull(branch)
    try:
        if existing is None:
            repository = client.get_repository()
            pull = client.create_pull(pull_title(issue, title), branch, repository.default_branch, body)
            verb = "opened"
        else:
            pull = client.update_pull(existing.number, pull_title(issue, title), body)
            verb = "updated"
    except GitHubError as exc:
        _fail(client, issue, f"the fix was pushed to branch `{branch}`, but the pull request could not be "
                             f"{'opened' if existing is None else 'updated'}: {exc}", run_url, summary)
        raise
    upsert_comment(client, issue, "status", status_comment(issue, pull.number, pull.html_url, verb, summary, run_url))
    return Outcome("published", f"{verb} pull request #{pull.number}", issue, pull.number, pull.html_url)
