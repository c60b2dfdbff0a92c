"""`coder eval`: run tasks/ (or SWE-bench instances) through coder, and optionally other harnesses, on one model
endpoint; write results.jsonl, summary.md, plot.png and SWE-bench predictions."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape

from ..config import Config, ConfigError, load_config
from ..errors import UsageError
from .harness import RunLimits
from .loading import load_tasks
from .plan import HARNESSES, EvalPlan
from .progress import make_display
from .report import write_reports
from .runner import Evaluation
from .sandboxing import DEFAULT_TOOLCHAIN, SandboxPlan, local_pytest_refusal, plan_sandboxes
from .tasks import EvalTask, filter_tasks
from .taskspec import TaskSpecError

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


class EvalUsageError(UsageError):
    """A user mistake in `coder eval`: one line, exit code 2."""


def positive(text: str) -> int:
    """An argparse type: an int of at least 1."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("eval", help="evaluate coder (and other harnesses) on tasks/ or SWE-bench instances",
                       description="Run every task in its own sandbox, grade each final patch in a fresh sandbox, and "
                                   "write results.jsonl, summary.md, plot.png and SWE-bench predictions to --out.")
    p.add_argument("paths", nargs="+", type=Path, metavar="TASKS",
                   help="a tasks/ directory, one task directory, or a SWE-bench JSONL file")
    p.add_argument("--tasks", action="append", metavar="ID", help="only these task ids (globs and commas allowed)")
    p.add_argument("--model", action="append", dest="models", metavar="NAME",
                   help="model to evaluate, repeatable: a registry name or .gguf (local runtime) or the endpoint's "
                        "model name (with --base-url)")
    p.add_argument("--strategy", action="append", dest="strategies", choices=["auto", "tools", "guided"],
                   help="coder's strategy, repeatable: each is its own configuration (coder[guided]/MODEL, "
                        "coder[tools]/MODEL), so `--strategy guided --strategy tools` compares them in one run "
                        "(default: the configuration's agent.strategy, as coder/MODEL)")
    p.add_argument("--base-url", help="an OpenAI-compatible endpoint instead of the local runtime")
    p.add_argument("--provider", choices=["openai_compat", "local"])
    p.add_argument("--workers", type=positive, default=1, help="runs in parallel (default 1)")
    p.add_argument("--runs", type=positive, default=1, help="runs per task and configuration (default 1)")
    p.add_argument("--redo", action="store_true", help="run again what --out already holds results for")
    p.add_argument("--out", type=Path, default=Path("eval-results"), help="output directory (default eval-results)")
    p.add_argument("--compare", action="append", default=[], choices=[h for h in HARNESSES if h != "coder"],
                   help="also run this harness on the same tasks and endpoint (mini-swe-agent, or gold: the reference "
                        "fixes)")
    p.add_argument("--no-coder", action="store_true", help="run only the --compare harnesses")
    p.add_argument("--sandbox", choices=["auto", "local", "docker"])
    p.add_argument("--toolchain", default=DEFAULT_TOOLCHAIN, metavar="CMD",
                   help="setup command for the shared Docker toolchain image ('none': the bare sandbox image)")
    p.add_argument("--swe-repos", type=Path, metavar="DIR|FILE",
                   help="local clones for SWE-bench instances: DIR/owner__name, or a YAML/JSON mapping file")
    p.add_argument("--max-steps", type=positive, default=30, help="model calls per run (default 30)")
    p.add_argument("--max-seconds", type=float, default=600.0, help="wall-clock seconds per run (default 600)")
    p.add_argument("--max-tokens", type=positive, default=500_000, help="tokens per run (default 500000)")
    p.add_argument("--command-timeout", type=float, default=120.0, help="seconds per command or test run (default 120)")
    p.add_argument("--grade-timeout", type=float, default=300.0, help="seconds for the grading test run (default 300)")
    p.add_argument("--mini-config", default="mini", help="mini-swe-agent config name or path (default mini)")
    p.add_argument("--check", action="store_true",
                   help="check each task folder both ways instead of running any agent: fail_to_pass tests fail on "
                        "the buggy repo and pass with fix.patch, pass_to_pass tests pass both times, every id names a "
                        "test (in --sandbox; exit 1 when a task fails the check)")
    p.add_argument("--ray", nargs="?", const="local", metavar="ADDRESS",
                   help="run on Ray: a cluster ADDRESS (or 'auto'), or a local instance when none is given")


def _config(args: argparse.Namespace) -> Config:
    flags: dict[str, Any] = {
        "model.base_url": args.base_url,
        "model.provider": args.provider or ("openai_compat" if args.base_url else None),
        "sandbox.kind": args.sandbox,
        "limits.max_steps": args.max_steps,
        "limits.max_wall_seconds": args.max_seconds,
        "limits.max_tokens": args.max_tokens,
        "sandbox.bash_timeout": args.command_timeout,
        "agent.stream": False,  # nobody watches the text stream of a batch run
        "agent.snapshots": False,  # per-step undo snapshots serve interactive sessions only
    }
    config = load_config(Path.cwd(), flags)
    # The eval's tasks bring their own test commands and setup: the current directory's must not leak into them.
    return config.model_copy(update={"tests": config.tests.model_copy(update={"command": None}),
                                     "sandbox": config.sandbox.model_copy(update={"setup": None})})


def _sandbox_plan(args: argparse.Namespace, config: Config, tasks: list[EvalTask], console: Console) -> SandboxPlan:
    """The sandboxes the tasks will run in; EvalUsageError when the local sandbox could not grade them."""
    sandbox, warning = plan_sandboxes(config.sandbox, None if args.toolchain.strip() in ("", "none") else args.toolchain)
    if warning:
        console.print(f"[yellow]warning: {escape(warning)}[/]")
    if sandbox.kind == "local":
        refusal = local_pytest_refusal(tasks)
        if refusal:
            raise EvalUsageError(refusal)
    return sandbox


def build_plan(args: argparse.Namespace, console: Console) -> EvalPlan:
    tasks = filter_tasks(load_tasks(args.paths, args.swe_repos),
                         [p.strip() for item in args.tasks or [] for p in item.split(",") if p.strip()] or None)
    harnesses = ([] if args.no_coder else ["coder"]) + [h for h in dict.fromkeys(args.compare)]
    if not harnesses:
        raise EvalUsageError("--no-coder needs at least one --compare harness")
    if args.no_coder and args.strategies:
        raise EvalUsageError("--strategy chooses coder's strategy; with --no-coder nothing runs coder")
    if "mini-swe-agent" in harnesses:
        from .mini_swe import available

        if not available():
            raise EvalUsageError("--compare mini-swe-agent needs the optional extra: pip install 'coder-agent[compare]'")
    if args.ray:
        from .ray_backend import available as ray_available

        if not ray_available():
            raise EvalUsageError("--ray needs the optional extra: pip install 'coder-agent[ray]'")
    config = _config(args)
    from .endpoint import with_model

    models = [with_model(config.model, name) for name in (args.models or [None])]
    sandbox = _sandbox_plan(args, config, tasks, console)
    limits = RunLimits(args.max_steps, args.max_seconds, args.max_tokens, args.command_timeout)
    strategies: list[str | None] = list(dict.fromkeys(args.strategies or [None]))
    return EvalPlan(tasks=tasks, out=args.out, config=config, sandbox=sandbox, models=list(models),
                    harnesses=harnesses, strategies=strategies, limits=limits, runs=args.runs, workers=args.workers,
                    redo=args.redo, mini_config=args.mini_config, grade_timeout=args.grade_timeout, ray=bool(args.ray),
                    ray_address=None if args.ray in (None, "local") else args.ray)


def check(args: argparse.Namespace, console: Console) -> int:
    """`coder eval --check`: one line per task, then how many passed; 0 when all did, 1 otherwise."""
    from ..visible import visible_line
    from .check import check_task

    if args.models or args.strategies or args.compare or args.base_url:
        raise EvalUsageError("--check runs no model: drop --model, --strategy, --compare and --base-url")
    tasks = filter_tasks(load_tasks(args.paths, args.swe_repos),
                         [p.strip() for item in args.tasks or [] for p in item.split(",") if p.strip()] or None)
    config = _config(args)
    sandbox = _sandbox_plan(args, config, tasks, console)
    good = 0
    for task in tasks:
        report = check_task(task, sandbox, args.grade_timeout)
        good += report.ok
        print(visible_line(report.line()), flush=True)
    print(f"{good} of {len(tasks)} task(s) pass the check ({sandbox.kind} sandbox)")
    return EXIT_OK if good == len(tasks) else EXIT_FAILED


def run(args: argparse.Namespace) -> int:
    console = Console(stderr=True, highlight=False)
    if args.check:
        try:
            return check(args, console)
        except (EvalUsageError, TaskSpecError, ConfigError) as exc:
            print(f"coder: error: {exc}", file=sys.stderr)
            return EXIT_USAGE
    try:
        plan = build_plan(args, console)
        outcome = Evaluation(plan, make_display(console)).run()
    except (EvalUsageError, TaskSpecError, ConfigError) as exc:
        print(f"coder: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    written = write_reports(plan.out, plan.tasks, plan.all_configs(), outcome.records, plan.runs)
    summary = written["summary"].read_text(encoding="utf-8")
    table = summary.split("\n\n")[2] if summary.count("\n\n") >= 2 else summary
    print(table)
    console.print(f"[dim]results: {plan.out / 'results.jsonl'}\nsummary: {written['summary']}"
                  + (f"\nplot: {written['plot']}" if "plot" in written else "")
                  + (f"\npredictions: {written['predictions']}" if "predictions" in written else "") + "[/]")
    return EXIT_INTERRUPTED if outcome.interrupted else EXIT_OK
