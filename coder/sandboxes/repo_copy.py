"""Which files of the user's repo go into a sandbox (tracked plus untracked-not-ignored) and copying them."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from .base import SandboxError


def repo_files(repo: Path) -> list[str]:
    """Repo-relative paths of tracked and untracked-but-not-ignored files that exist on disk."""
    proc = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard", "-z"],
        cwd=repo,
        capture_output=True,
        check=False,
    )
    if proc.returncode != 0:
        raise SandboxError(f"{repo} is not a git repository (git ls-files failed: {proc.stderr.decode(errors='replace').strip()})")
    seen: set[str] = set()
    files: list[str] = []
    for raw in proc.stdout.split(b"\0"):
        if not raw:
            continue
        rel = os.fsdecode(raw)
        if rel in seen:
            continue
        seen.add(rel)
        if os.path.lexists(repo / rel):
            files.append(rel)
    return files


def copy_repo(repo: Path, dest: Path) -> int:
    """Copy the repo's files into DEST preserving symlinks (as links) and modes; return the file count."""
    dest.mkdir(parents=True, exist_ok=True)
    count = 0
    for rel in repo_files(repo):
        src = repo / rel
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if src.is_symlink():
            os.symlink(os.readlink(src), target)
        elif src.is_dir():  # a submodule or nested repo: copy its files without its .git
            shutil.copytree(src, target, symlinks=True, ignore=shutil.ignore_patterns(".git"), dirs_exist_ok=True)
        else:
            shutil.copy2(src, target)
        count += 1
    return count
