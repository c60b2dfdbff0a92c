"""Git inside the workspace: the base commit taken at start, the patch against it, and per-step snapshots for undo.

Every git call goes through gitrun (no workspace config, hooks, filters or attributes; killed first on low memory;
failures raise GitError). Paths git refuses to track ('.GIT/', '.git./', ...) are left out and reported, never fatal.
"""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from . import gitrun
from .gitrun import GitError, Pinned
from .paths import refused_prefix

# Files a run creates that never belong in a patch, whatever the repo's own .gitignore says.
RUN_JUNK = ["__pycache__/", "*.pyc", ".pytest_cache/", ".coder/", "node_modules/", ".mypy_cache/", ".ruff_cache/"]
_INVALID = re.compile(r"^error: invalid path '(.*)'$", re.MULTILINE)
_ADD_TRIES = 4

__all__ = ["RUN_JUNK", "GitError", "Patch", "Snapshot", "WorkspaceGit"]


@dataclass(frozen=True)
class Snapshot:
    """A recorded workspace: a git tree id, and the paths left out because git refuses them."""

    tree: str
    excluded: list[str]


@dataclass(frozen=True)
class Patch:
    """The patch from the base commit to the workspace, and the paths left out of it."""

    text: str
    excluded: list[str]


class WorkspaceGit:
    """The server's git over one workspace; it owns $GIT_DIR/config, info/attributes and info/exclude."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.pinned = Pinned(exclude="\n".join(RUN_JUNK) + "\n")
        self._refused: set[str] = set()  # refused paths seen so far (kept out of `git add` by pathspec)

    def git(self, *args: str, env: dict[str, str] | None = None, stdin: str | None = None) -> str:
        """Run git on the workspace (after putting back the files the server owns); stdout as text."""
        gitrun.pin(self.root, self.pinned)
        index = (env or {}).get("GIT_INDEX_FILE", str(self.root / ".git" / "index"))
        Path(index + ".lock").unlink(missing_ok=True)  # left by a git that was killed; only the server uses it
        data = stdin.encode("utf-8", errors="surrogateescape") if stdin is not None else None
        return gitrun.run(self.root, *args, env=env, stdin=data).decode("utf-8", errors="surrogateescape")

    def init_base(self) -> str:
        """Make the workspace a git repo whose single new commit is the starting state; return its sha."""
        git_dir = self.root / ".git"
        if not git_dir.exists():
            gitrun.run(self.root, "init", "-q")
        self.pinned = Pinned(config=(git_dir / "config").read_bytes(), exclude=self.pinned.exclude)
        self._add_all({})
        self.git("commit", "-q", "--allow-empty", "--no-verify", "-m", "coder: starting state")
        return self.git("rev-parse", "--verify", "HEAD^{commit}").strip()

    def diff_against(self, base: str) -> Patch:
        """The full patch (new, deleted and binary files included) from base to the working tree."""
        with tempfile.TemporaryDirectory() as tmp:
            env = {"GIT_INDEX_FILE": str(Path(tmp) / "index")}
            self.git("read-tree", base, env=env)
            excluded = self._add_all(env)
            text = self.git("diff", "--cached", "--binary", "--no-color", "--no-ext-diff", "--no-textconv",
                            "--src-prefix=a/", "--dst-prefix=b/", "--ignore-submodules=none", base, env=env)
        return Patch(text, excluded)

    def snapshot(self) -> Snapshot:
        """Record the workspace (tracked and untracked-not-ignored files, whatever made them) as a git tree."""
        # A persistent private index makes `git add -A` incremental: only files whose stat changed are re-read.
        env = {"GIT_INDEX_FILE": str(self.root / ".git" / "coder-snapshot-index")}
        excluded = self._add_all(env)
        return Snapshot(self.git("write-tree", env=env).strip(), excluded)

    def restore(self, tree: str) -> list[str]:
        """Put the workspace back to snapshot TREE: files made since are removed, changed or deleted ones restored.

        Returns the paths that changed. Files the repo ignores (build output, caches) are left alone, and so are
        paths git refuses."""
        current = self.snapshot().tree
        if current == tree:
            return []
        out = self.git("diff-tree", "-r", "-z", "--no-renames", "--no-ext-diff", "--no-textconv", "--name-status",
                       tree, current)
        fields = [f for f in out.split("\0") if f]
        changes = list(zip(fields[0::2], fields[1::2]))
        for status, path in changes:
            if status == "A":  # created after the snapshot
                target = self.root / path
                target.unlink(missing_ok=True)
                _remove_empty_parents(self.root, target.parent)
        back = [path for status, path in changes if status != "A"]
        if back:
            # Check files out of a throwaway index: the snapshot index keeps its stat cache, so the next snapshot
            # only re-reads the files restored here.
            with tempfile.TemporaryDirectory() as tmp:
                env = {"GIT_INDEX_FILE": str(Path(tmp) / "index")}
                self.git("read-tree", tree, env=env)
                self.git("checkout-index", "-f", "-z", "--stdin", env=env, stdin="\0".join(back))
        return sorted(path for _, path in changes)

    def _add_all(self, env: dict[str, str]) -> list[str]:
        """`git add -A` into the index env names, leaving out paths git refuses; returns those left out."""
        for _ in range(_ADD_TRIES):
            present = sorted(p for p in self._refused if os.path.lexists(self.root / p))
            specs = [".", *(f":(exclude,literal){p}" for p in present)]
            try:
                self.git("add", "-A", "--pathspec-from-file=-", "--pathspec-file-nul", env=env,
                         stdin="\0".join(specs) + "\0")
                return present
            except GitError as exc:
                if "invalid path" not in str(exc):
                    raise
                found = self._find_refused(env) | set(_INVALID.findall(str(exc)))
                if not found - self._refused:
                    raise
                self._refused |= found
        raise GitError("git add -A kept failing on paths git refuses: " + ", ".join(sorted(self._refused)[:10]))

    def _find_refused(self, env: dict[str, str]) -> set[str]:
        """Untracked paths git refuses, as their shortest refused leading part ('.GIT' for '.GIT/x/y')."""
        out = self.git("ls-files", "-o", "--exclude-standard", "-z", env=env)
        found: set[str] = set()
        for rel in filter(None, out.split("\0")):
            name = rel.rsplit("/", 1)[-1].lower()
            link = ("mod" in name or "7eba" in name) and os.path.islink(self.root / rel)
            prefix = refused_prefix(rel, symlink=link)
            if prefix is not None:
                found.add(prefix)
        return found


def _remove_empty_parents(root: Path, directory: Path) -> None:
    while directory != root and directory.is_dir() and not any(directory.iterdir()):
        directory.rmdir()
        directory = directory.parent
