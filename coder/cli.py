"""The `coder` command line: fix, replay, sandbox. Exit codes: 0 resolved, 1 not resolved, 2 usage/configuration error,
130 interrupted."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import time
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape

from . import __version__, demo, env_cli
from .apply import ApplyError, Outcome, apply_to_worktree, commit_on_branch, is_dirty, is_git_toplevel
from .config import Config, ConfigError, load_config
from .errors import UsageError
from .eval import cli as eval_cli
from .eval import tasks_cli
from .events import ApprovalRequested, Decision, RunFinished
from .factories import open_agent
from .github import cli as github_cli
from .render import JsonRenderer, RichRenderer
from .runtime import models_cli
from .sandboxes import cli as sandbox_cli
from .task import Task
from .trajectory import read_events
from .tui import launch as tui_launch
from .visible import visible, visible_line

EXIT_RESOLVED, EXIT_NOT_RESOLVED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="coder", description="A Qwen-Coder agent that fixes bugs in a sandbox.")
    parser.add_argument("--version", action="version", version=f"coder {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    fix = sub.add_parser("fix", help="fix an issue (or, with no text, make the failing tests pass)")
    fix.add_argument("issue", nargs="?", help="the issue text")
    fix.add_argument("--issue-file", type=Path, help="read the issue text from a file")
    fix.add_argument("--repo", type=Path, default=Path("."), help="the git repository (default: current directory)")
    apply = fix.add_mutually_exclusive_group()
    apply.add_argument("--yes", "-y", action="store_true", help="apply the patch to the working tree without asking")
    apply.add_argument("--branch", metavar="NAME", help="commit the patch on a new branch NAME (working tree untouched)")
    fix.add_argument("--stash", action="store_true", help="with --yes: back up uncommitted changes with git stash first")
    fix.add_argument("--json", action="store_true", help="print the event stream as JSON lines on stdout")
    _model_flags(fix)
    fix.add_argument("--sandbox", choices=["auto", "local", "docker"])
    fix.add_argument("--test-command", help="the command that runs the tests")
    fix.add_argument("--max-steps", type=int)
    fix.add_argument("--max-tokens", type=int)
    fix.add_argument("--max-seconds", type=float)
    fix.add_argument("--no-stream", action="store_true", help="do not stream model text")
    fix.add_argument("--approval", choices=["never", "risky", "always"],
                     help="ask before risky calls (bash, unusual files) or before every call that writes or runs")
    fix.add_argument("--strategy", choices=["auto", "tools", "guided"],
                     help="tools: the free tool loop (large models); guided: localize from the tests, rewrite whole "
                          "functions, sample and validate (small models); auto: guided for the bundled runtime's "
                          "models of 3B or fewer, else tools")

    sandbox_cli.add_parser(sub)
    env_cli.add_parser(sub)
    demo.add_parser(sub)
    models_cli.add_parser(sub)
    eval_cli.add_parser(sub)
    tasks_cli.add_parser(sub)
    github_cli.add_parser(sub)

    doctor = sub.add_parser("doctor", help="probe the model endpoint (local or remote), the Docker sandbox and the "
                                           "repository's environment (detected, built, tests found)")
    doctor.add_argument("--json", action="store_true", help="print the report as JSON")
    doctor.add_argument("--repo", type=Path, default=Path("."), help="the repository to check (and read configuration from)")
    _model_flags(doctor)

    serve = sub.add_parser("serve", help="serve a local model on 127.0.0.1 behind an OpenAI-compatible API")
    serve.add_argument("--repo", type=Path, default=Path("."), help="where to read configuration from")
    serve.add_argument("--port", type=int, default=8080)
    serve.add_argument("--local-model", help="registry name (see `coder models list`)")
    serve.add_argument("--path", help="a GGUF file to serve")
    serve.add_argument("--context", type=int, help="context size in tokens")
    serve.add_argument("--threads", type=int, help="CPU threads (default: the physical cores)")
    serve.add_argument("--no-grammar", action="store_true", help="do not constrain tool calls with a grammar")

    tui = sub.add_parser("tui", help="open the interactive session (also: `coder` with no arguments in a terminal)")
    tui_launch.add_arguments(tui)
    _model_flags(tui)

    replay = sub.add_parser("replay", help="re-render a trajectory file")
    replay.add_argument("file", type=Path)
    replay.add_argument("--json", action="store_true", help="print the events as JSON lines")
    return parser


def _model_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", dest="model_name", help="model name at the endpoint")
    parser.add_argument("--base-url", help="OpenAI-compatible endpoint, e.g. http://127.0.0.1:8080/v1")
    parser.add_argument("--provider", choices=["openai_compat", "local"], help="default: local (bundled runtime)")


def _model_overrides(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "model.name": args.model_name,
        "model.base_url": args.base_url,
        "model.provider": args.provider or ("openai_compat" if args.base_url else None),
    }


def _flags(args: argparse.Namespace) -> dict[str, Any]:
    return {
        **_model_overrides(args),
        "sandbox.kind": args.sandbox,
        "tests.command": args.test_command,
        "limits.max_steps": args.max_steps,
        "limits.max_tokens": args.max_tokens,
        "limits.max_wall_seconds": args.max_seconds,
        "agent.stream": False if args.no_stream else None,
        "agent.approval": getattr(args, "approval", None),
        "agent.strategy": getattr(args, "strategy", None),
    }


def _issue_text(args: argparse.Namespace) -> str | None:
    if args.issue and args.issue_file:
        raise UsageError("give the issue as text or with --issue-file, not both")
    if args.issue_file:
        try:
            return str(args.issue_file.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(f"cannot read issue file {args.issue_file}: {exc}") from exc
    if args.issue is not None and not args.issue.strip():
        raise UsageError("the issue text is empty")
    return None if args.issue is None else str(args.issue)


def _check_repo(repo: Path) -> Path:
    if not repo.is_dir():
        raise UsageError(f"{repo} is not a directory")
    if not is_git_toplevel(repo):
        raise UsageError(f"{repo.resolve()} is not the top of a git repository; coder works on git checkouts so every "
                         "change stays reviewable (run `git init` first, or pass --repo)")
    return repo.resolve()


def _ask_apply(console: Console) -> bool:
    if not sys.stdin.isatty():
        return False
    answer = console.input("[bold]Apply this patch to your working tree?[/] [y/N] ").strip().lower()
    return answer in ("y", "yes")


def terminal_approver(console: Console) -> Callable[[ApprovalRequested], Decision]:
    """Ask on the terminal: yes, no, or always for this tool in this session."""

    def ask(request: ApprovalRequested) -> Decision:
        args = escape(visible_line(json.dumps(request.arguments)[:300]))
        name, reason = escape(visible_line(request.name)), escape(visible(request.reason))
        answer = console.input(f"[bold yellow]{name}[/] {reason}\n  [dim]{args}[/]\n"
                               "  allow? \\[y]es / \\[n]o / \\[a]lways for this session: ").strip().lower()
        return "always" if answer in ("a", "always") else "yes" if answer in ("y", "yes") else "no"

    return ask


def _deliver(args: argparse.Namespace, repo: Path, final: RunFinished, console: Console, task: Task,
             outcome: Outcome) -> None:
    """Apply or commit the patch when the user accepted; otherwise say where it is. OUTCOME records what changed."""
    if not final.patch.strip():
        return
    if args.branch:
        sha = commit_on_branch(repo, final.patch, args.branch, f"coder: {task.title}\n\n{final.summary}".strip(),
                               outcome=outcome)
        console.print(f"[green]committed on branch {args.branch}[/] ({sha[:10]}); your working tree was not touched")
    elif args.yes or (not args.json and _ask_apply(console)):
        backup = apply_to_worktree(repo, final.patch, stash=args.stash, outcome=outcome)
        if backup:
            console.print(f"[yellow]your previous changes are backed up as stash '{backup}'[/]")
        console.print("[green]patch applied to the working tree[/]")
    else:
        console.print("[dim]patch not applied; rerun with --yes or --branch NAME, or `git apply` the saved patch[/]")


def cmd_fix(args: argparse.Namespace) -> int:
    console = Console(stderr=True, highlight=False, emoji=False)
    issue = _issue_text(args)
    if args.stash and not args.yes:
        raise UsageError("--stash only makes sense with --yes")
    repo = _check_repo(args.repo)
    config: Config = load_config(repo, _flags(args))
    if config.agent.approval != "never" and not sys.stdin.isatty():
        raise UsageError(f"approval mode '{config.agent.approval}' needs a terminal to ask on; use --approval never")
    if args.yes and not args.stash and is_dirty(repo):
        raise UsageError("your working tree has uncommitted changes; commit them, use --branch NAME, or add --stash")
    with ExitStack() as stack:  # owns the local runtime process, if any
        progress = lambda line: console.print(f"[dim]{escape(visible(line))}[/]")  # noqa: E731
        warn = lambda line: console.print(f"[yellow]warning: {escape(visible(line))}[/]")  # noqa: E731
        # The sandbox, its environment and the baseline tests first: an environment that cannot be built, or tests
        # that cannot run, never start (or download) a model.
        task = Task(repo=repo, issue=issue, test_command=config.tests.command)
        opened = open_agent(config, repo, stack, task=task, approver=terminal_approver(console), progress=progress,
                            warn=warn)
        renderer = JsonRenderer() if args.json else RichRenderer(console)
        final: RunFinished | None = None
        with opened.agent.session(task, opened.checked) as session:
            for event in session.start():
                renderer(event)
                if isinstance(event, RunFinished):
                    final = event
    assert final is not None
    patch_file = session.trajectory_path.with_suffix(".patch")
    if final.patch.strip():
        patch_file.write_text(final.patch, encoding="utf-8", errors="surrogateescape")
    if not args.json:
        renderer.show_patch(final.patch)  # type: ignore[union-attr]
        console.print(f"[dim]trajectory: {session.trajectory_path}" + (f"\npatch: {patch_file}" if final.patch.strip() else "") + "[/]")
    if final.status == "interrupted":
        return EXIT_INTERRUPTED
    if final.status == "error":
        console.print(f"[red]error:[/] {escape(visible(final.message))}")
        return EXIT_USAGE
    outcome = Outcome()
    try:
        _deliver(args, repo, final, console, task, outcome)
        return EXIT_RESOLVED if final.status == "resolved" else EXIT_NOT_RESOLVED
    except KeyboardInterrupt:  # say what is true: the branch or the apply may be done already
        print(f"coder: interrupted; {outcome.says()}", file=sys.stderr)
        return EXIT_INTERRUPTED


def cmd_doctor(args: argparse.Namespace) -> int:
    from . import doctor

    console = Console(stderr=True, highlight=False)
    config = load_config(args.repo.resolve(), _model_overrides(args))
    report = doctor.diagnose(config, lambda line: console.print(f"[dim]{escape(line)}[/]"), repo=args.repo.resolve())
    print(doctor.render(report, args.json))
    return EXIT_USAGE if "probe_error" in report else EXIT_RESOLVED


def cmd_serve(args: argparse.Namespace) -> int:
    from .runtime.launch import runtime_for

    console = Console(stderr=True, highlight=False)
    overrides = {"model.local_model": args.local_model, "model.path": args.path, "model.context": args.context,
                 "model.threads": args.threads, "model.grammar": False if args.no_grammar else None}
    config = load_config(args.repo.resolve(), overrides)
    runtime, note = runtime_for(config.model, lambda line: console.print(f"[dim]{escape(line)}[/]"))
    runtime.port = args.port
    console.print(note)
    with runtime as info:
        console.print(f"[green]serving {info.name} at {info.url}[/] (Ctrl-C stops it)")
        try:
            while runtime.alive:
                time.sleep(0.5)
        except KeyboardInterrupt:
            pass
    return EXIT_RESOLVED


def cmd_replay(args: argparse.Namespace) -> int:
    if not args.file.is_file():
        raise UsageError(f"no such trajectory file: {args.file}")
    console = Console(highlight=False, emoji=False)
    renderer = JsonRenderer() if args.json else RichRenderer(console)
    try:
        events = list(read_events(args.file))
    except (ValueError, KeyError, TypeError) as exc:
        raise UsageError(f"{args.file} is not a coder trajectory: {exc}") from exc
    if not events:
        raise UsageError(f"{args.file} holds no events")
    for event in events:
        renderer(event)
    final = events[-1]
    if isinstance(final, RunFinished) and isinstance(renderer, RichRenderer):
        renderer.show_patch(final.patch)
    return EXIT_RESOLVED


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    # SIGTERM (a CI job's timeout, `kill`, a service stop) cleans up like Ctrl-C: every sandbox container and the local
    # model server go, nothing is applied. Ctrl-C alone would leave them behind a process killed this way.
    signal.signal(signal.SIGTERM, _interrupt)
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None and sys.stdin.isatty() and sys.stdout.isatty():
        args = parser.parse_args(["tui"])  # `coder` alone in a terminal opens the TUI on the current directory
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        handler = getattr(args, "handler", None)  # subcommand modules register theirs with set_defaults(handler=...)
        if handler is not None:
            return int(handler(args))
        if args.command == "fix":
            return cmd_fix(args)
        if args.command == "demo":
            return demo.run(args, main)
        if args.command == "sandbox":
            return sandbox_cli.run(args)
        if args.command == "models":
            return models_cli.run(args)
        if args.command == "eval":
            return eval_cli.run(args)
        if args.command == "github":
            return github_cli.run(args)
        if args.command == "doctor":
            return cmd_doctor(args)
        if args.command == "serve":
            return cmd_serve(args)
        if args.command == "tui":
            return tui_launch.run_tui(args, _model_overrides(args))
        return cmd_replay(args)
    except (UsageError, ConfigError, ApplyError, sandbox_cli.SandboxCliError, models_cli.ModelsCliError) as exc:
        print(f"coder: error: {visible(str(exc))}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("coder: interrupted; nothing was applied", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
