"""UsageError: a user mistake, printed by the CLI as one line with exit code 2 (subcommand modules raise it)."""

from __future__ import annotations


class UsageError(Exception):
    """A user mistake: printed as one line, exit code 2."""
