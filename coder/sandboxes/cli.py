"""`coder sandbox build | base | prune`: manage the Docker sandbox images and leftover containers."""

from __future__ import annotations

import argparse
import subprocess
from pathlib import Path

from rich.console import Console
from rich.markup import escape

from ..config import load_config
from ..errors import UsageError
from ..resources import resource_dir
from .base import SandboxError
from .docker_image import DEFAULT_BASE, OFFLINE_BASE


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    sandbox = sub.add_parser("sandbox", help="build the Docker sandbox image, or prune leftover containers")
    actions = sandbox.add_subparsers(dest="sandbox_command", metavar="ACTION", required=True)
    build = actions.add_parser("build", help="build the sandbox image (and the repo's setup image, if configured)")
    build.add_argument("--base", help=f"base image (default: config sandbox.base_image, {DEFAULT_BASE})")
    build.add_argument("--python-version", default="3.11", help="the base image's python3 version (default 3.11)")
    build.add_argument("--repo", type=Path, default=Path("."), help="repo whose sandbox.setup to build (default: .)")
    base = actions.add_parser("base", help="build the offline base image with debootstrap (no registry needed)")
    base.add_argument("--name", default=OFFLINE_BASE, help=f"image name (default {OFFLINE_BASE})")
    prune = actions.add_parser("prune", help="remove the coder sandbox containers left behind by processes that are gone")
    prune.add_argument("--all", action="store_true", dest="everything",
                       help="also remove the sandboxes of coder runs still going (they fail)")


def run(args: argparse.Namespace) -> int:
    console = Console(stderr=True, highlight=False)
    if args.sandbox_command == "base":
        script = resource_dir("sandbox") / "build-base.sh"
        return subprocess.run(["bash", str(script), args.name]).returncode and 2
    from .docker import docker_client, prune

    try:
        client = docker_client()
    except SandboxError as exc:
        raise SandboxCliError(str(exc)) from exc
    if args.sandbox_command == "prune":
        removed, kept = prune(client, args.everything)
        console.print(f"removed {removed} sandbox container(s)"
                      + (f"; kept {kept} in use by coder runs still going (--all removes them too)" if kept else ""),
                      soft_wrap=True)
        return 0
    return _build(args, client, console)


class SandboxCliError(UsageError):
    """A sandbox command failed in a way the user can fix; printed as one line, exit 2."""


def _build(args: argparse.Namespace, client: object, console: Console) -> int:
    from .docker_image import build_image, ensure_setup_image

    repo = args.repo.resolve()
    config = load_config(repo) if repo.is_dir() else None
    base = args.base or (config.sandbox.base_image if config else DEFAULT_BASE)
    with console.status(f"building the sandbox image from {base} ...") as status:
        def progress(line: str) -> None:
            status.update(f"[bold]sandbox build[/] {escape(line[:100])}")
            if line.startswith("Step ") or line.startswith("downloading") or line.startswith("running setup"):
                console.print(f"[dim]{escape(line[:160])}[/]")

        try:
            tag = build_image(client, base=base, python_version=args.python_version, progress=progress)
            console.print(f"[green]built {tag}[/]")
            if config and config.sandbox.setup and (repo / ".git").exists():
                setup = ensure_setup_image(client, repo, config.sandbox.setup, tag, progress)
                console.print(f"[green]setup image ready: {setup}[/]")
        except SandboxError as exc:
            raise SandboxCliError(str(exc)) from exc
    return 0
