"""`coder models list | pull NAME | path NAME | rm NAME`: the local runtime's model cache from the command line."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ..errors import UsageError
from . import fetch, registry


class ModelsCliError(UsageError):
    """A user-facing failure (unknown name, failed download); the CLI prints it and exits 2."""


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    models = sub.add_parser("models", help="list, download and remove the local runtime's models")
    actions = models.add_subparsers(dest="models_command", metavar="ACTION", required=True)
    actions.add_parser("list", help="the catalogue, with what is downloaded")
    for action, text in (("pull", "download a model (resumable, checked by sha256)"),
                         ("path", "print a downloaded model's GGUF file"),
                         ("rm", "delete a downloaded model")):
        actions.add_parser(action, help=text).add_argument("name", help="model name or alias (see `coder models list`)")


def _size(value: int) -> str:
    return f"{value / registry.GiB:.1f} GiB" if value >= registry.GiB else f"{value / registry.MiB:.0f} MiB"


def _list(out: Console) -> None:
    table = Table(title=f"models in {fetch.models_dir()}", title_justify="left")
    for column in ("name", "alias", "params", "quant", "size", "RAM", "downloaded", "sources"):
        table.add_column(column, no_wrap=column in ("name", "alias"))
    for row in fetch.list_models():
        table.add_row(row.name, ", ".join(row.aliases), f"{row.params_b:g}B", row.quantization, _size(row.size_bytes),
                      _size(row.ram_bytes), "[green]yes[/]" if row.downloaded else "no", ", ".join(row.sources))
    out.print(table)


def run(args: argparse.Namespace) -> int:
    out = Console(highlight=False, width=None if sys.stdout.isatty() else 160)  # piped: do not squeeze to 80
    err = Console(stderr=True, highlight=False)
    action = args.models_command
    try:
        if action == "list":
            _list(out)
            return 0
        name = args.name
        registry.get(name)  # unknown names fail here, with close matches
        if action == "pull":
            file = fetch.pull(name, progress=True)
            err.print(f"{escape(name)}: {escape(str(file))}")
        elif action == "path":
            print(fetch.path(name))
        elif action == "rm":
            removed = fetch.remove(name)
            err.print(f"removed {escape(name)}" if removed else f"{escape(name)} was not downloaded")
        else:  # pragma: no cover - argparse rejects other actions
            raise ModelsCliError(f"unknown action {action}")
    except (registry.UnknownModelError, fetch.FetchError) as exc:
        raise ModelsCliError(str(exc)) from exc
    except OSError as exc:
        raise ModelsCliError(f"{action} {args.name}: {exc}") from exc
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m coder.runtime.models_cli ACTION [NAME]`, the same as `coder models ...`."""
    parser = argparse.ArgumentParser(prog="coder")
    add_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["models", *(sys.argv[1:] if argv is None else argv)])
    try:
        return run(args)
    except ModelsCliError as exc:
        print(f"coder: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
