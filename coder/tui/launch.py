"""`coder tui` (and `coder` with no arguments in a terminal): build the model and sandbox, then run the app."""

from __future__ import annotations

import argparse
import sys
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape

from ..apply import is_git_toplevel
from ..config import load_config
from ..errors import UsageError
from ..visible import visible


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--repo", type=Path, default=Path("."), help="the git repository (default: current directory)")
    parser.add_argument("--sandbox", choices=["auto", "local", "docker"])
    parser.add_argument("--approval", choices=["never", "risky", "always"],
                        help="ask before risky calls (bash, unusual files) or before every call that writes or runs")
    parser.add_argument("--test-command", help="the command that runs the tests")
    parser.add_argument("--max-steps", type=int)
    parser.add_argument("--strategy", choices=["auto", "tools", "guided"],
                        help="how the agent works on the first task: tools, guided (for small models) or auto")


def config_flags(args: argparse.Namespace, model_overrides: dict[str, Any]) -> dict[str, Any]:
    """The configuration flags the command line sets (None: not given)."""
    return {**model_overrides, "sandbox.kind": args.sandbox, "agent.approval": args.approval,
            "tests.command": args.test_command, "limits.max_steps": args.max_steps,
            "agent.strategy": args.strategy}


def run_tui(args: argparse.Namespace, model_overrides: dict[str, Any]) -> int:
    """Open the app on the repository; returns the exit code."""
    from ..factories import open_agent
    from ..task import Task
    from .app import CoderApp, TuiDeps
    from .bridge import AgentBridge

    repo: Path = args.repo
    if not repo.is_dir() or not is_git_toplevel(repo):
        raise UsageError(f"{repo.resolve()} is not the top of a git repository (run `git init` first, or pass --repo)")
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise UsageError("the TUI needs a terminal; use `coder fix` in scripts")
    repo = repo.resolve()
    flags = config_flags(args, model_overrides)
    console = Console(stderr=True, highlight=False, emoji=False)
    notices: list[str] = []

    def warn(line: str) -> None:  # shown now (it stays in the scrollback) and again inside the app
        notices.append(line)
        console.print(f"[yellow]warning: {escape(visible(line))}[/]")

    config = load_config(repo, flags, warn=warn)
    with ExitStack() as stack:  # owns the local runtime process, if any
        progress = lambda line: console.print(f"[dim]{escape(visible(line))}[/]")  # noqa: E731
        task = Task(repo=repo, test_command=config.tests.command)  # the tests run before any task is typed...
        opened = open_agent(config, repo, stack, task=task, progress=progress)  # ...and before any model starts
        bridge = AgentBridge(opened.agent, repo, config.tests.command, opened.checked)
        agent = opened.agent
        deps = TuiDeps(bridge, repo, agent.model.name, agent.sandbox.name,
                       notices=[*notices, *([opened.warning] if opened.warning else [])])
        try:
            CoderApp(deps).run()
        finally:
            bridge.close()
    return 0
