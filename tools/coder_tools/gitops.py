"""Git inside the workspace: the base commit taken at start, the patch against it, and per-step snapshots for undo."""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

# Files a run creates that never belong in a patch, whatever the repo's own .gitignore says.
RUN_JUNK = ["__pycache__/", "*.pyc", ".pytest_cache/", ".coder/", "node_modules/", ".mypy_cache/", ".ruff_cache/"]
_IDENTITY = ["-c", "user.name=coder", "-c", "user.email=coder@localhost", "-c", "commit.gpgsign=false"]


def git(root: Path, *args: str, env: dict[str, str] | None = None, check: bool = True, stdin: str | None = None) -> str:
    """Run git in the workspace and return stdout (raises RuntimeError with stderr on failure)."""
    full_env = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "GIT_TERMINAL_PROMPT": "0", **(env or {})}
    proc = subprocess.run(
        ["git", "-c", "core.autocrlf=false", "-c", "core.quotepath=false", *args],
        cwd=root,
        env=full_env,
        capture_output=True,
        check=False,
        input=stdin.encode("utf-8", errors="surrogateescape") if stdin is not None else None,
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


def _snapshot_env(root: Path) -> dict[str, str]:
    # A persistent private index makes `git add -A` incremental: only files whose stat changed are re-read.
    return {"GIT_INDEX_FILE": str(root / ".git" / "coder-snapshot-index")}


def snapshot(root: Path) -> str:
    """Record the workspace (tracked and untracked-not-ignored files, whatever made them) as a git tree; return its id."""
    env = _snapshot_env(root)
    git(root, "add", "-A", env=env)
    return git(root, "write-tree", env=env).strip()


def restore(root: Path, tree: str) -> list[str]:
    """Put the workspace back to snapshot TREE: files made since are removed, changed or deleted ones restored.

    Returns the paths that changed. Files the repo ignores (build output, caches) are left alone."""
    current = snapshot(root)
    if current == tree:
        return []
    out = git(root, "diff-tree", "-r", "-z", "--no-renames", "--name-status", tree, current)
    fields = [f for f in out.split("\0") if f]
    changes = list(zip(fields[0::2], fields[1::2]))
    for status, path in changes:
        if status == "A":  # created after the snapshot
            target = root / path
            target.unlink(missing_ok=True)
            _remove_empty_parents(root, target.parent)
    back = [path for status, path in changes if status != "A"]
    if back:
        # Check files out of a throwaway index: the snapshot index keeps its stat cache, so the next snapshot only
        # re-reads the files restored here.
        with tempfile.TemporaryDirectory() as tmp:
            env = {"GIT_INDEX_FILE": str(Path(tmp) / "index")}
            git(root, "read-tree", tree, env=env)
            git(root, "checkout-index", "-f", "-z", "--stdin", env=env, stdin="\0".join(back))
    return sorted(path for _, path in changes)


def _remove_empty_parents(root: Path, directory: Path) -> None:
    while directory != root and directory.is_dir() and not any(directory.iterdir()):
        directory.rmdir()
        directory = directory.parent
