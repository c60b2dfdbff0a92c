"""`coder env build | show | prune`: the repository's environment image (toolchain, dependencies, test runner)."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape

from .errors import UsageError
from .visible import visible, visible_line

__all__ = ["EnvCliError", "PRUNE_RULE", "add_parser", "current_tag", "describe_spec", "environment_state", "run"]

PRUNE_RULE = ("keeps, for every repository an environment image was built for that still exists here, the image its "
              "current dependency files and the current sandbox image call for, and removes the other environment "
              "images: those left by dependency changes, by a new sandbox image (a coder upgrade, `coder sandbox "
              "build`) and those of repositories that are gone; a repository whose current image cannot be worked out "
              "keeps all of its images. --all removes every environment image")


class EnvCliError(UsageError):
    """An env command failed in a way the user can fix (no Docker, not a repository, a failed build): one line, exit 2."""


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    env = sub.add_parser("env", help="build, show or prune the repository's environment image (deps + test runner)")
    actions = env.add_subparsers(dest="env_command", metavar="ACTION", required=True)
    build = actions.add_parser("build", help="detect the environment and build its image now (cached by dependency "
                                             "files; `coder fix` then starts warm)")
    build.add_argument("--repo", type=Path, default=Path("."), help="the git repository (default: .)")
    show = actions.add_parser("show", help="what is detected, the image tag and whether it is built; the env images")
    show.add_argument("--repo", type=Path, default=Path("."), help="the git repository (default: .)")
    show.add_argument("--json", action="store_true", help="print it as JSON")
    prune = actions.add_parser("prune", help="remove the environment images no repository here uses any more",
                               description=f"`coder env prune` {PRUNE_RULE}.")
    prune.add_argument("--all", action="store_true", dest="everything", help="remove every environment image")
    env.set_defaults(handler=run)


def _repo(path: Path) -> Path:
    from .apply import is_git_toplevel

    if not path.is_dir():
        raise EnvCliError(f"{path} is not a directory")
    if not is_git_toplevel(path):
        raise EnvCliError(f"{path.resolve()} is not the top of a git repository (pass --repo)")
    return path.resolve()


def describe_spec(spec: Any) -> dict[str, Any]:
    """The detected environment as JSON-ready fields (EnvSpec)."""
    return {"languages": list(spec.languages) or ["none detected"], "package_manager": spec.package_manager,
            "setup_command": spec.setup_command, "setup_from": "sandbox.setup (your config)" if spec.setup else "detected",
            "test_runner": spec.test_runner, "dependency_files": list(spec.dependency_files),
            "toolchain": list(spec.toolchain), "notes": list(spec.notes)}


def _client() -> Any:
    from .sandboxes.base import SandboxError
    from .sandboxes.docker import docker_client

    try:
        return docker_client()
    except SandboxError as exc:
        raise EnvCliError(f"environment images need Docker: {exc}") from exc


def _sandbox_image(client: Any, config: Any) -> str:
    from .factories import built_sandbox_image
    from .sandboxes.base import SandboxError

    try:
        return built_sandbox_image(client, config.sandbox)
    except SandboxError as exc:
        raise EnvCliError(str(exc)) from exc


def _environment_off(config: Any) -> bool:
    return getattr(config.sandbox, "environment", "auto") == "none"


def environment_state(config: Any, repo: Path, client: Any | None) -> tuple[Any, dict[str, Any]]:
    """(EnvSpec, fields): what is detected, plus the image tag and whether it is built, or why they are unknown."""
    from .envs import detect_environment, env_image_built, env_image_tag

    spec = detect_environment(repo, config.sandbox.setup)
    fields = describe_spec(spec)
    if _environment_off(config):
        fields.update(image="none", image_built=False,
                      image_detail="sandbox.environment = \"none\": runs on the sandbox image, nothing installed")
        return spec, fields
    if client is None:
        fields.update(image="unknown", image_built=False, image_detail="Docker is not reachable")
        return spec, fields
    try:
        base = _sandbox_image(client, config)
    except EnvCliError as exc:
        fields.update(image="unknown", image_built=False, image_detail=str(exc))
        return spec, fields
    tag = env_image_tag(client, repo, spec, base)
    fields.update(image=tag, image_built=env_image_built(client, tag), sandbox_image=base)
    if tag == base:
        fields["image_detail"] = "nothing to install: the sandbox image itself"
    elif not fields["image_built"]:
        fields["image_detail"] = "not built: run `coder env build`"
    return spec, fields


def current_tag(client: Any, repo: Path) -> str | None:
    """The environment image REPO calls for now (its files, its config, the current sandbox image); None when that
    cannot be worked out (not a repository any more, no sandbox image, unreadable config)."""
    from .config import ConfigError, load_config

    try:
        config = load_config(_repo(repo), warn=lambda _: None)  # another repo's config warnings are not news here
    except (EnvCliError, ConfigError, OSError):
        return None
    try:
        _, fields = environment_state(config, repo, client)
    except (OSError, ValueError):
        return None
    return str(fields["image"]) if fields["image"] not in ("unknown", "none") else None


def run(args: argparse.Namespace) -> int:
    from .config import load_config

    console = Console(stderr=True, highlight=False, emoji=False)
    if args.env_command == "prune":
        return _prune(args, console)
    repo = _repo(args.repo)
    config = load_config(repo)
    if args.env_command == "show":
        return _show(args, repo, config)
    return _build(repo, config, console)


def _build(repo: Path, config: Any, console: Console) -> int:
    from .envs import EnvBuildError, describe, detect_environment, ensure_env_image
    from .sandboxes.base import SandboxError

    if _environment_off(config):
        raise EnvCliError("sandbox.environment is \"none\": there is no environment image to build")
    client = _client()
    base = _sandbox_image(client, config)
    spec = detect_environment(repo, config.sandbox.setup)
    console.print(escape(visible_line(describe(spec))), soft_wrap=True)
    for note in spec.notes:
        console.print(f"[dim]  {escape(visible_line(note))}[/]", soft_wrap=True)
    began = time.monotonic()
    with console.status("building the environment image ...") as status:
        def progress(line: str) -> None:
            shown = escape(visible_line(line))
            status.update(f"[bold]env build[/] {shown[:100]}")
            if line.startswith(("$ ", "building", "environment image", "toolchain image", "using ")):
                console.print(f"[dim]{shown[:300]}[/]")

        try:
            image = ensure_env_image(client, repo, spec, base, progress)
        except (EnvBuildError, SandboxError) as exc:
            text = visible(str(exc)).strip()
            console.print(f"[red]{escape(text)}[/]")
            raise EnvCliError(text.splitlines()[0] if text else "the environment image could not be built") from exc
    if image.tag == base:
        console.print(f"[green]nothing to install:[/] coder runs the tests on the sandbox image {escape(base)}")
    else:
        how = f"built in {time.monotonic() - began:.0f} s" if image.built else "cached: already built"
        console.print(f"[green]environment image ready:[/] {escape(image.tag)} ({how})", soft_wrap=True)
    print(image.tag)
    return 0


def _images(client: Any, current: str | None) -> list[dict[str, Any]]:
    from .envs import list_env_images

    keys = ("tag", "repo", "summary", "size", "created", "toolchain")
    return [{**{k: row.get(k) for k in keys}, "current_for_this_repo": row.get("tag") == current}
            for row in list_env_images(client)]


def _show(args: argparse.Namespace, repo: Path, config: Any) -> int:
    from .sandboxes.base import SandboxError
    from .sandboxes.docker import docker_client

    try:
        client: Any = docker_client()
    except SandboxError:
        client = None
    _, fields = environment_state(config, repo, client)
    images = _images(client, fields.get("image")) if client is not None else None
    report: dict[str, Any] = {"repo": str(repo), **fields, "env_images": images}
    if args.json:
        print(json.dumps(report, indent=2, default=str))
        return 0
    lines = [f"{'repo':>18}: {visible_line(report['repo'])}"]
    for key in ("languages", "package_manager", "setup_command", "setup_from", "test_runner", "dependency_files",
                "toolchain", "notes", "image", "image_built", "image_detail"):
        if key in report:
            value = report[key]
            shown = (", ".join(map(str, value)) or "-") if isinstance(value, list) else str(value)
            lines.append(f"{key.replace('_', ' '):>18}: {visible_line(shown)}")
    if images is None:
        lines.append(f"{'env images':>18}: unknown (Docker is not reachable)")
    else:
        lines.append(f"{'env images':>18}: {len(images)} on the engine")
        for row in images:
            mark = "*" if row["current_for_this_repo"] else " "
            lines.append(visible_line(f"{'':>18}{mark} {row['tag']}  {int(row['size'] or 0) / 2**20:.0f} MiB  "
                                      f"{row['repo']}  {row['summary']}"))
    print("\n".join(lines))
    return 0


def _prune(args: argparse.Namespace, console: Console) -> int:
    from .envs import list_env_images, prune_env_images

    client = _client()
    keep: set[str] = set()
    if not args.everything:
        by_repo: dict[str, list[str]] = {}
        for row in list_env_images(client):
            by_repo.setdefault(str(row.get("repo") or ""), []).append(str(row["tag"]))
        for repo, tags in by_repo.items():
            if not repo or not Path(repo).is_dir():
                continue  # a repository that is gone: none of its images is current
            tag = current_tag(client, Path(repo))
            keep.update([tag] if tag is not None else tags)
    removed = prune_env_images(client, keep=keep)
    console.print(f"removed {removed} environment image(s)" + (f"; kept {len(keep)}: {', '.join(sorted(keep))}"
                                                                if keep else ""), soft_wrap=True)
    return 0
