"""Putting an accepted patch on the host with git: into the working tree, or as a commit on a new branch.

Nothing here runs unless the user accepted, and every patch passes coder/patch_check.py first (the same check the
session ran when the patch left the sandbox). A dirty working tree is never overwritten: applying into it is refused
unless the user asked to stash, in which case a backup of the current state is stored with `git stash` first.

Committing on a branch uses git plumbing and no worktree: a temporary index holding HEAD, `git apply --cached`
(which runs no filters), `write-tree`, `commit-tree` (no hooks), and last one atomic `update-ref` that creates the
branch only if it does not exist. That last step is the only one that changes the user's repository; everything
before it adds unreachable objects at most. Git runs through coder/hostgit.py (no hooks, filters or fsmonitor).
An `Outcome` records what a delivery changed, so a message after an interrupt can say what is true.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import git

from .errors import UsageError
from .hostgit import GitFailed, HostGit, held_signals, private_tempdir
from .patch_check import FileChange, UnsafePatch, check_against_host, check_patch


class ApplyError(UsageError):
    """The patch could not be put on the host; the message says why and nothing was changed."""


@dataclass
class Outcome:
    """What a delivery has changed on the host so far, in words (read it after an interrupt)."""

    changes: list[str] = field(default_factory=list)

    def says(self) -> str:
        return "; ".join(self.changes) if self.changes else "nothing was applied"


def open_repo(path: Path) -> git.Repo:
    """The git repository at PATH (its top level), or ApplyError."""
    try:
        return git.Repo(path, search_parent_directories=False)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError) as exc:
        raise ApplyError(f"{path} is not a git repository") from exc


def is_git_toplevel(path: Path) -> bool:
    try:
        repo = git.Repo(path, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        return False
    return repo.working_tree_dir is not None and Path(repo.working_tree_dir).resolve() == path.resolve()


def is_dirty(path: Path) -> bool:
    """Uncommitted changes to tracked files (staged or not)."""
    open_repo(path)
    host = HostGit(path)
    quiet = ("--quiet", "--no-ext-diff", "--no-textconv")
    return any(host.run_raw("diff", *more, *quiet).returncode != 0 for more in ((), ("--cached",)))


def _checked(patch: str, host: HostGit, tree: str | None) -> list[FileChange]:
    """The patch's changes after the shared check and a look at what its paths are on the host (TREE, or the
    index and working tree when None). Raises ApplyError."""
    try:
        changes = check_patch(patch)
        modes = _host_modes(host, tree, [c.old for c in changes if c.old is not None])
        check_against_host(changes, modes.get)
    except UnsafePatch as exc:
        raise ApplyError(exc.refusal()) from exc
    return changes


def _host_modes(host: HostGit, tree: str | None, paths: list[bytes]) -> dict[bytes, str]:
    """The git mode of each of PATHS in TREE (or in the index, with symbolic links in the working tree too)."""
    if not paths:
        return {}
    names = [os.fsdecode(p) for p in paths]
    listing = host.run("ls-tree", "-z", tree, "--", *names) if tree else host.run("ls-files", "-s", "-z", "--", *names)
    modes: dict[bytes, str] = {}
    for entry in filter(None, listing.split("\0")):
        meta, name = entry.split("\t", 1)
        modes[os.fsencode(name)] = meta.split()[0]
    if tree is None:
        for path in paths:
            if os.path.islink(host.repo / os.fsdecode(path)):
                modes[path] = "120000"
    return modes


def _patch_bytes(patch: str) -> bytes:
    return (patch if patch.endswith("\n") else patch + "\n").encode("utf-8", errors="surrogateescape")


def apply_to_worktree(path: Path, patch: str, stash: bool = False, outcome: Outcome | None = None) -> str | None:
    """Apply PATCH to the working tree. Returns the backup stash message when one was made."""
    if not patch.strip():
        raise ApplyError("the patch is empty; there is nothing to apply")
    open_repo(path)
    outcome = outcome if outcome is not None else Outcome()
    host = HostGit(path)
    _checked(patch, host, None)
    if is_dirty(path) and not stash:
        raise ApplyError("your working tree has uncommitted changes; commit them, use --branch NAME, or pass --stash "
                         "to store a backup with git stash before applying")
    data = _patch_bytes(patch)
    try:
        host.run("apply", "--check", "--binary", "-", input=data)
    except GitFailed as exc:
        raise ApplyError(f"the patch does not apply to your working tree: {exc}") from exc
    backup = None
    try:
        if is_dirty(path):
            sha = host.run("stash", "create").strip()
            if sha:
                backup = "coder: backup before applying patch"
                with held_signals():
                    host.run("stash", "store", "-m", backup, sha, detached=True)
                    outcome.changes.append(f"your changes were backed up as stash '{backup}'")
        with held_signals():
            host.run("apply", "--binary", "-", input=data, detached=True)
            outcome.changes.append("the patch was applied to the working tree")
    except GitFailed as exc:
        raise ApplyError(f"git could not apply the patch: {exc}") from exc
    return backup


FALLBACK_IDENTITY = {"user.name": "coder", "user.email": "coder@localhost"}


def _fallback_identity(host: HostGit) -> dict[str, str]:
    """{"GIT_AUTHOR_NAME": "coder", ...} for whichever of name and email git cannot find, when it has no identity."""
    if all(host.run_raw("var", f"GIT_{role}_IDENT").returncode == 0 for role in ("AUTHOR", "COMMITTER")):
        return {}
    env: dict[str, str] = {}
    for key, value in FALLBACK_IDENTITY.items():
        if host.run_raw("config", "--get", key).returncode != 0:
            kind = key.split(".")[1].upper()
            for role in ("AUTHOR", "COMMITTER"):
                if f"GIT_{role}_{kind}" not in os.environ:
                    env[f"GIT_{role}_{kind}"] = value
    return env


def _branch_ref(host: HostGit, branch: str) -> str:
    try:
        name = host.run("check-ref-format", "--branch", branch).strip()
    except GitFailed as exc:
        raise ApplyError(f"'{branch}' is not a valid branch name") from exc
    if name != branch:  # "@{-1}" and the like name another branch
        raise ApplyError(f"'{branch}' is not a valid branch name")
    return f"refs/heads/{branch}"


def commit_on_branch(path: Path, patch: str, branch: str, message: str, outcome: Outcome | None = None) -> str:
    """Commit PATCH on a new branch made from HEAD, without touching the working tree or index. Returns the sha."""
    if not patch.strip():
        raise ApplyError("the patch is empty; there is nothing to commit")
    open_repo(path)
    outcome = outcome if outcome is not None else Outcome()
    host = HostGit(path)
    ref = _branch_ref(host, branch)
    if host.run_raw("rev-parse", "--verify", "-q", ref).returncode == 0:
        raise ApplyError(f"branch '{branch}' already exists; choose another name")
    head = host.run_raw("rev-parse", "--verify", "-q", "HEAD^{commit}").stdout.decode().strip()
    if not head:
        raise ApplyError("the repository has no commits yet; make a first commit before using --branch")
    _checked(patch, host, head)
    try:
        return _commit(host, patch, head, ref, branch, message, outcome)
    except OSError as exc:  # no temp dir, no git to run
        raise ApplyError(f"could not commit on a branch: {exc}") from exc


def _commit(host: HostGit, patch: str, head: str, ref: str, branch: str, message: str, outcome: Outcome) -> str:
    """Build the commit in a temporary index, then create REF pointing at it (the only change to the repository)."""
    with private_tempdir("coder-branch-", host) as tmp:
        index = {"GIT_INDEX_FILE": str(tmp / "index")}
        try:
            host.run("read-tree", head, env=index)
            host.run("apply", "--cached", "--binary", "-", input=_patch_bytes(patch), env=index)
        except GitFailed as exc:
            raise ApplyError(f"the patch does not apply to HEAD (it may depend on uncommitted changes): {exc}") from exc
        try:
            tree = host.run("write-tree", env=index).strip()
            sha = host.run("commit-tree", tree, "-p", head, "-F", "-", input=message.encode("utf-8", "surrogateescape"),
                           env=_fallback_identity(host)).strip()
        except GitFailed as exc:
            raise ApplyError(f"git could not make the commit: {exc}") from exc
        try:  # inside the temp dir's lifetime, so its removal after a SIGKILL waits for this git too
            with held_signals():  # the one step that changes the repository: all of it, and said, or none of it
                host.run("update-ref", "-m", f"coder: {branch}", ref, sha, "", detached=True)
                outcome.changes.append(f"the patch was committed on branch {branch} ({sha[:10]})")
        except GitFailed as exc:
            raise ApplyError(f"could not create branch '{branch}': {exc}") from exc
    return sha
