"""`coder github decide | agent | publish`: the commands the GitHub Action (action.yml) runs in its two jobs."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from .artifacts import RunSummary
from .context import ActionContext, ContextError

__all__ = ["add_parser", "run", "main"]

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--event-name", help="default: $GITHUB_EVENT_NAME")
    parser.add_argument("--event-path", type=Path, help="the event payload JSON (default: $GITHUB_EVENT_PATH)")
    parser.add_argument("--repository", help="OWNER/NAME (default: $GITHUB_REPOSITORY)")
    parser.add_argument("--label", default="coder", help="the label that starts coder (default: coder)")
    parser.add_argument("--issue", help="issue number for workflow_dispatch (default: the payload's inputs.issue)")


def _default_out(environ: Mapping[str, str]) -> Path:
    return Path(environ.get("RUNNER_TEMP") or ".") / "coder-result"


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    _add_actions(sub.add_parser("github", help="the GitHub Action's jobs: decide, run the agent, publish the fix"))


def _add_actions(github: argparse.ArgumentParser) -> None:
    actions = github.add_subparsers(dest="github_command", metavar="ACTION", required=True)
    decide_p = actions.add_parser("decide", help="say whether this event should start the agent (no model, no token)")
    _common(decide_p)
    agent = actions.add_parser("agent", help="run the agent on the issue and write the artifact (read-only job)")
    _common(agent)
    agent.add_argument("--repo", type=Path, default=Path("."), help="the checked-out repository (default: .)")
    agent.add_argument("--out", type=Path, default=None, help="artifact directory (default: $RUNNER_TEMP/coder-result)")
    agent.add_argument("--model", dest="model_name", help="model name at the endpoint")
    agent.add_argument("--base-url", help="OpenAI-compatible endpoint (key: $CODER_MODEL__API_KEY)")
    agent.add_argument("--provider", choices=["openai_compat", "local"], help="default: local (bundled runtime)")
    agent.add_argument("--local-model", help="registry name for the local runtime, e.g. qwen2.5-coder-1.5b")
    agent.add_argument("--sandbox", choices=["auto", "local", "docker"], help="default: config (auto)")
    agent.add_argument("--test-command", help="the command that runs the tests")
    agent.add_argument("--max-steps", type=int)
    agent.add_argument("--max-seconds", type=float)
    agent.add_argument("--strategy", choices=["auto", "tools", "guided"],
                       help="tools, guided (for small models) or auto (default: config)")
    publish_p = actions.add_parser("publish", help="check the patch, push coder/issue-N, open or update the PR")
    _common(publish_p)
    publish_p.add_argument("--repo", type=Path, default=Path("."), help="the checked-out repository (default: .)")
    publish_p.add_argument("--artifact", type=Path, default=None,
                           help="the downloaded agent artifact (default: $RUNNER_TEMP/coder-result)")
    publish_p.add_argument("--allow-workflow-changes", action="store_true",
                           help="publish patches that change .github/workflows/ (off by default)")
    publish_p.add_argument("--agent-result", default="success", help="the agent job's result (needs.agent.result)")
    publish_p.add_argument("--max-patch-bytes", type=int, default=1_000_000)
    publish_p.add_argument("--remote", default="origin", help="git remote to push to (default: origin)")


def _context(args: argparse.Namespace, environ: Mapping[str, str]) -> ActionContext:
    return ActionContext.from_env(environ, args.event_name, args.event_path, args.repository)


def _set_outputs(environ: Mapping[str, str], values: Mapping[str, object]) -> None:
    """Append KEY=VALUE lines to $GITHUB_OUTPUT (values are single-line by construction)."""
    path = environ.get("GITHUB_OUTPUT")
    if not path:
        return
    with open(path, "a", encoding="utf-8") as handle:
        for key, value in values.items():
            handle.write(f"{key}={' '.join(str(value).split())}\n")


def _step_summary(environ: Mapping[str, str], text: str) -> None:
    path = environ.get("GITHUB_STEP_SUMMARY")
    if path:
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(text.rstrip() + "\n")


def cmd_decide(args: argparse.Namespace, environ: Mapping[str, str], err: Callable[[str], None]) -> int:
    from .trigger import decide

    ctx = _context(args, environ)
    decision = decide(ctx.event_name, ctx.payload, args.label, args.issue)
    _set_outputs(environ, {"action": decision.action, "run": str(decision.action == "run").lower(),
                           "issue": decision.issue or ""})
    print(f"{decision.action} {decision.issue or '-'}: {decision.reason}")
    if decision.action == "invalid":
        err(decision.reason)
        return EXIT_USAGE
    return EXIT_OK


def _agent_flags(args: argparse.Namespace) -> dict[str, Any]:
    return {"model.name": args.model_name, "model.base_url": args.base_url,
            "model.provider": args.provider or ("openai_compat" if args.base_url else None),
            "model.local_model": args.local_model, "sandbox.kind": args.sandbox, "tests.command": args.test_command,
            "limits.max_steps": args.max_steps, "limits.max_wall_seconds": args.max_seconds,
            "agent.strategy": args.strategy}


def cmd_agent(args: argparse.Namespace, environ: Mapping[str, str], err: Callable[[str], None],
              build: Any = None) -> int:
    from .artifacts import write_summary
    from .trigger import decide

    ctx = _context(args, environ)
    out = args.out or _default_out(environ)
    decision = decide(ctx.event_name, ctx.payload, args.label, args.issue)
    if decision.action != "run":  # decided before anything heavy is imported: no model, no sandbox
        summary = RunSummary(issue=decision.issue, decision=decision.action, status="skipped", message=decision.reason)
        write_summary(out, summary)
        _set_outputs(environ, {"status": summary.status, "issue": summary.issue or ""})
        _step_summary(environ, _agent_step_summary(summary))
        print(f"coder: {decision.action}: {decision.reason}", file=sys.stderr)
        if decision.action == "invalid":
            err(decision.reason)
            return EXIT_USAGE
        return EXIT_OK
    return _run_agent(args, ctx, out, decision.issue, environ, err, build)


def _run_agent(args: argparse.Namespace, ctx: ActionContext, out: Path, issue: int | None,
               environ: Mapping[str, str], err: Callable[[str], None], build: Any) -> int:
    from rich.console import Console
    from rich.markup import escape

    from ..config import ConfigError, load_config
    from ..render import RichRenderer
    from .agent_job import AgentJobError, agent_job
    from .artifacts import write_summary

    repo = args.repo.resolve()
    console = Console(stderr=True, highlight=False)
    progress = lambda line: console.print(f"[dim]{escape(line)}[/]")  # noqa: E731

    def default_build(config: Any, stack: ExitStack) -> Any:
        from ..factories import open_agent
        from .agent_job import require_env_image

        require_env_image(config, repo)  # built by the step before; never built here, where the model's secret is
        opened = open_agent(config, repo, stack, progress=progress)  # the sandbox first, as `coder fix` does
        return opened.agent.model, opened.agent.sandbox, opened.warning

    try:
        config = load_config(repo, _agent_flags(args), environ)
    except ConfigError as exc:
        write_summary(out, RunSummary(issue=issue, status="error", message=str(exc)))
        err(f"the agent could not run: {exc}")
        _set_outputs(environ, {"status": "error"})
        return EXIT_USAGE
    try:
        summary = agent_job(ctx, repo, out, config, build or default_build, args.label, args.issue,
                            on_event=RichRenderer(console), warn=lambda w: console.print(f"[yellow]warning: {escape(w)}[/]"))
    except AgentJobError as exc:  # agent_job wrote a summary saying so
        err(f"the agent could not run: {exc}")
        _set_outputs(environ, {"status": "error"})
        return EXIT_USAGE
    _set_outputs(environ, {"status": summary.status, "issue": summary.issue or ""})
    _step_summary(environ, _agent_step_summary(summary))
    return EXIT_OK


def _agent_step_summary(s: RunSummary) -> str:
    if s.status == "skipped":
        return f"coder: skipped ({s.message})"
    return (f"### coder on issue #{s.issue}: {s.status}\n\n{s.message}\n\n"
            f"fail → pass: {len(s.fail_to_pass)}, still failing: {len(s.still_failing)}, steps: {s.steps}, "
            f"{s.usage.prompt_tokens + s.usage.completion_tokens} tokens, {s.elapsed:.0f} s")


def cmd_publish(args: argparse.Namespace, environ: Mapping[str, str], err: Callable[[str], None]) -> int:
    from .client import GitHubClient
    from .patch_policy import PatchPolicy
    from .publish import PublishOptions, publish

    ctx = _context(args, environ)
    if not ctx.token:
        raise ContextError("no token: set GITHUB_TOKEN (the publish job's github-token)")
    options = PublishOptions(label=args.label, issue_input=args.issue, agent_result=args.agent_result,
                             remote=args.remote, policy=PatchPolicy(allow_workflow_changes=args.allow_workflow_changes,
                                                                    max_bytes=args.max_patch_bytes))
    artifact = args.artifact or _default_out(environ)
    with GitHubClient(ctx.token, ctx.repository, ctx.api_url) as client:
        outcome = publish(ctx, client, args.repo.resolve(), artifact if artifact.is_dir() else None, options,
                          log=lambda line: print(line, file=sys.stderr))
    _set_outputs(environ, {"result": outcome.result, "pull-request": outcome.pull_url})
    _step_summary(environ, f"coder publish: {outcome.result}: {outcome.message}")
    print(f"{outcome.result}: {outcome.message}" + (f" {outcome.pull_url}" if outcome.pull_url else ""))
    if outcome.result == "failed":
        err(outcome.message)
        return EXIT_FAILED
    return EXIT_OK


def run(args: argparse.Namespace, environ: Mapping[str, str] | None = None, build: Any = None) -> int:
    """Run one `coder github` action; one-line errors and exit code 2 for configuration and permission problems."""
    from ..config import ConfigError
    from .client import GitHubError

    env = os.environ if environ is None else environ

    def err(message: str) -> None:
        print(f"coder: error: {message}", file=sys.stderr)

    try:
        if args.github_command == "decide":
            return cmd_decide(args, env, err)
        if args.github_command == "agent":
            return cmd_agent(args, env, err, build)
        return cmd_publish(args, env, err)
    except (ContextError, ConfigError, GitHubError) as exc:
        err(str(exc))
        return EXIT_USAGE


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m coder.github ACTION ...`: the same commands without importing the rest of the CLI."""
    parser = argparse.ArgumentParser(prog="coder github")
    _add_actions(parser)
    return run(parser.parse_args(argv))
