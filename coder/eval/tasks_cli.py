"""`coder tasks import`: make coder eval task folders from the bug-fix commits of a git repository."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..config import load_config
from ..visible import visible_line
from .importing import Imported, import_commits
from .sandboxing import DEFAULT_TOOLCHAIN, plan_sandboxes
from .taskspec import TaskSpecError

EXIT_OK, EXIT_NONE, EXIT_USAGE = 0, 1, 2


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    tasks = sub.add_parser("tasks", help="make task folders for coder eval")
    actions = tasks.add_subparsers(dest="tasks_command", metavar="ACTION", required=True)
    imp = actions.add_parser(
        "import", help="task folders from the newest bug-fix commits of a git repository",
        description="Each commit on HEAD that changes source and test files together becomes a task: its parent plus "
                    "its test changes is the starting state (kept under refs/coder-tasks/, no branch or working tree "
                    "changes), the rest of the commit is fix.patch, and the whole suite is run both ways in a sandbox "
                    "for fail_to_pass and pass_to_pass. The issue text is the commit message: edit it into what a "
                    "user would have reported.")
    imp.add_argument("repo", type=Path, help="a git repository")
    imp.add_argument("--last", type=_positive, default=5, help="tasks to make (default 5)")
    imp.add_argument("--out", type=Path, default=Path("my-tasks"), help="where the task folders go (default my-tasks)")
    imp.add_argument("--sandbox", choices=["auto", "local", "docker"])
    imp.add_argument("--toolchain", default=DEFAULT_TOOLCHAIN, metavar="CMD",
                     help="setup command for the shared Docker toolchain image ('none': the bare sandbox image)")
    imp.add_argument("--timeout", type=float, default=300.0, help="seconds per test run (default 300)")
    tasks.set_defaults(handler=run)


def _line(result: Imported) -> str:
    if result.task_dir is not None:
        return f"made {result.task_dir.name}: {result.subject}"
    return f"skip {result.commit[:10]} {result.subject}: {result.skipped}"


def run(args: argparse.Namespace) -> int:
    config = load_config(Path.cwd(), {"sandbox.kind": args.sandbox})
    plan, warning = plan_sandboxes(config.sandbox, None if args.toolchain.strip() in ("", "none") else args.toolchain)
    if warning:
        print(f"warning: {visible_line(warning)}")
    try:
        results = import_commits(args.repo, args.out, plan, args.last, args.timeout,
                                 lambda r: print(visible_line(_line(r)), flush=True))
    except TaskSpecError as exc:
        print(f"coder: error: {visible_line(str(exc))}", file=sys.stderr)
        return EXIT_USAGE
    made = [r for r in results if r.task_dir is not None]
    print(f"{len(made)} task(s) written to {args.out} from {len(results)} commit(s) looked at"
          + (f"; check them with `coder eval {args.out} --check`" if made else ""))
    return EXIT_OK if made else EXIT_NONE
