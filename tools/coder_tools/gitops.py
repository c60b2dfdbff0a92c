"""Git inside the workspace: the base commit taken at start and the patch against it."""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

# Files a run creates that never belong in a patch, whatever the repo's own .gitignore says.
RUN_JUNK = ["__pycache__/", "*.pyc", ".pytest_cache/", ".coder/", "node_modules/", ".mypy_cache/", ".ruff_cache/"]
_IDENTITY = ["-c", "user.name=coder", "-c", "user.email=coder@localhost", "-c", "commit.gpgsign=false"]


def git(root: Path, *args: str, env: dict[str, str] | None = None, check: bool = True) -> str:
    """Run git in the workspace and return stdout (raises RuntimeError with stderr on failure)."""
    full_env = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "GIT_TERMINAL_PROMPT": "0", **(env or {})}
    proc = subprocess.run(
        ["git", "-c", "core.autocrlf=false", "-c", "core.quotepath=false", *args],
        cwd=root,
        env=full_env,
        capture_output=True,
        check=False,
    )
    if check and proc.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)} failed: {proc.stderr.decode(errors='replace').strip()}")
    return proc.stdout.decode("utf-8", errors="surrogateescape")


def init_base(root: Path) -> str:
    """Make the workspace a fresh git repo whose single commit is the starting state; return its sha."""
    if not (root / ".git").exists():
        git(root, "init", "-q")
    exclude = root / ".git" / "info" / "exclude"
    exclude.parent.mkdir(parents=True, exist_ok=True)
    exclude.write_text("\n".join(RUN_JUNK) + "\n")
    git(root, "add", "-A")
    git(root, *_IDENTITY, "commit", "-q", "--allow-empty", "--no-verify", "-m", "coder: starting state")
    return git(root, "rev-parse", "HEAD").strip()


def diff_against(root: Path, base: str) -> str:
    """The full patch (new, deleted and binary files included) from base to the working tree."""
    with tempfile.TemporaryDirectory() as tmp:
        env = {"GIT_INDEX_FILE": str(Path(tmp) / "index")}
        git(root, "read-tree", base, env=env)
        git(root, "add", "-A", env=env)
        return git(root, "diff", "--cached", "--binary", "--no-color", "--no-ext-diff", base, env=env)
