"""`coder demo`: run `coder fix` on a fresh copy of the buggy example project (examples/calculator); your files untouched."""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from .errors import UsageError
from .resources import resource_dir

__all__ = ["EXAMPLE", "add_parser", "example_dir", "make_copy", "run"]

EXAMPLE = "calculator"
# The copy's one commit: a fixed identity, no hooks, no signing, whatever the user's git configuration says.
_GIT_ENV = {"GIT_AUTHOR_NAME": "coder demo", "GIT_AUTHOR_EMAIL": "demo@coder.invalid",
            "GIT_COMMITTER_NAME": "coder demo", "GIT_COMMITTER_EMAIL": "demo@coder.invalid",
            "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull, "GIT_TERMINAL_PROMPT": "0"}
_GIT_SAFE = ("-c", "core.hooksPath=/dev/null", "-c", "commit.gpgSign=false", "-c", "core.fsmonitor=false",
             "-c", "init.defaultBranch=main")
_JUNK = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache", ".git")


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    demo = sub.add_parser("demo", help="see coder work: `coder fix` on a copy of a small buggy example project")
    demo.add_argument("--dir", type=Path, help="where to put the copy (default: a new temporary directory, kept)")
    demo.add_argument("--model", dest="model_name", help="model name at the endpoint")
    demo.add_argument("--base-url", help="OpenAI-compatible endpoint (default: the bundled local runtime)")
    demo.add_argument("--provider", choices=["openai_compat", "local"], help="default: local (bundled runtime)")
    demo.add_argument("--sandbox", choices=["auto", "local", "docker"])
    demo.add_argument("--max-steps", type=int)
    demo.add_argument("--max-seconds", type=float)
    demo.add_argument("--strategy", choices=["auto", "tools", "guided"],
                      help="how the agent works: tools, guided (for small models) or auto (default: the configuration)")
    demo.add_argument("--no-stream", action="store_true", help="do not stream model text")
    demo.add_argument("--json", action="store_true", help="print the event stream as JSON lines on stdout")


def example_dir() -> Path:
    """The example project shipped with coder (installed wheel: coder/_data/examples/calculator)."""
    return resource_dir("examples") / EXAMPLE


def _git(repo: Path, *args: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(_GIT_ENV)  # no configuration of the user's (templates, hooks, signing) applies, and none is changed
    proc = subprocess.run(["git", *_GIT_SAFE, *args], cwd=repo, env=env, capture_output=True, text=True,
                          stdin=subprocess.DEVNULL)
    if proc.returncode != 0:
        raise UsageError(f"git {args[0]} failed in the demo copy {repo}: {' '.join(proc.stderr.split())[:300]}")


def make_copy(dest: Path | None = None) -> Path:
    """A committed git repository holding a fresh copy of the example at DEST (default: a new temp dir)."""
    source = example_dir()
    if dest is None:
        dest = Path(tempfile.mkdtemp(prefix="coder-demo-")) / EXAMPLE
    elif dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise UsageError(f"{dest} is not an empty directory; give --dir a new or empty directory")
    shutil.copytree(source, dest, ignore=_JUNK, dirs_exist_ok=True)
    _git(dest, "init", "-q")
    _git(dest, "add", "-A")
    _git(dest, "commit", "-q", "-m", "the calculator example, with its bug")
    return dest.resolve()


def fix_argv(args: argparse.Namespace, repo: Path, issue: str) -> list[str]:
    """The `coder fix` arguments the demo runs: the issue, the copy, --yes (the copy is the demo's), the flags given."""
    argv = ["fix", issue, "--repo", str(repo), "--yes"]
    for flag, value in (("--model", args.model_name), ("--base-url", args.base_url), ("--provider", args.provider),
                        ("--sandbox", args.sandbox), ("--max-steps", args.max_steps),
                        ("--max-seconds", args.max_seconds), ("--strategy", args.strategy)):
        if value is not None:
            argv += [flag, str(value)]
    argv += ["--no-stream"] * bool(args.no_stream) + ["--json"] * bool(args.json)
    return argv


def run(args: argparse.Namespace, coder_main: Callable[[list[str]], int]) -> int:
    """Copy the example, say what runs, run `coder fix` on the copy through CODER_MAIN (the command line's own
    entry point, handed in by it: the same code path), then say where things are."""
    repo = make_copy(args.dir)
    issue = (repo / "ISSUE.md").read_text(encoding="utf-8").strip()

    def say(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    say(f"coder demo: a copy of the example project ({EXAMPLE}: add() returns the difference; "
        f"tests/test_calculator.py::test_add fails) is at {repo}")
    say(f"coder demo: running  cd {shlex.quote(str(repo))} && coder fix {shlex.quote(issue)} --yes")
    code = coder_main(fix_argv(args, repo, issue))
    say(f"coder demo: done (exit {code}); the copy at {repo} holds the result, your own files were not touched.")
    say('coder demo: on your own repository:  cd your-repo && coder fix "describe the bug"')
    return code
