"""`coder tasks import` and `import-exercises`: coder eval task folders from the bug-fix commits of a git repository,
or from a directory of exercises with reference solutions."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..config import load_config
from ..visible import visible_line
from .cli import positive
from .import_exercises import import_exercises
from .importing import Imported, import_commits
from .sandboxing import DEFAULT_TOOLCHAIN, plan_sandboxes
from .taskspec import TaskSpecError

EXIT_OK, EXIT_NONE, EXIT_USAGE = 0, 1, 2


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
    imp.add_argument("--last", type=positive, default=5, help="tasks to make (default 5)")
    ex = actions.add_parser(
        "import-exercises", help="task folders from a directory of exercises (a stub or buggy program with its tests "
                                 "and a reference solution)",
        description="Each subdirectory is an exercise: its files less the solution directory are the starting state, "
                    "the solution directory's files laid over them (same relative paths) the fix. The suite runs both "
                    "ways in a sandbox for fail_to_pass (not passing on the stub, a test that cannot run included) "
                    "and pass_to_pass. The issue is the exercise's README.md or instructions.md.")
    ex.add_argument("directory", type=Path, help="the directory of exercises")
    ex.add_argument("--solution", default="solution", metavar="DIR",
                    help="each exercise's subdirectory holding the reference solution (default: solution)")
    for action in (imp, ex):
        action.add_argument("--out", type=Path, default=Path("my-tasks"),
                            help="where the task folders go (default my-tasks)")
        action.add_argument("--sandbox", choices=["auto", "local", "docker"])
        action.add_argument("--toolchain", default=DEFAULT_TOOLCHAIN, metavar="CMD",
                            help="setup command for the shared Docker toolchain image ('none': the bare sandbox image)")
        action.add_argument("--timeout", type=float, default=300.0, help="seconds per test run (default 300)")
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
    show = lambda r: print(visible_line(_line(r)), flush=True)  # noqa: E731
    try:
        if args.tasks_command == "import":
            results = import_commits(args.repo, args.out, plan, args.last, args.timeout, show)
        else:
            results = import_exercises(args.directory, args.out, plan, args.solution, args.timeout, show)
    except TaskSpecError as exc:
        print(f"coder: error: {visible_line(str(exc))}", file=sys.stderr)
        return EXIT_USAGE
    made = [r for r in results if r.task_dir is not None]
    looked = "commit(s)" if args.tasks_command == "import" else "exercise(s)"
    print(f"{len(made)} task(s) written to {args.out} from {len(results)} {looked} looked at"
          + (f"; check them with `coder eval {args.out} --check`" if made else ""))
    return EXIT_OK if made else EXIT_NONE
