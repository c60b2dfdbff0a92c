"""Commit a checked patch on top of a base commit with gitpython (working tree untouched) and push it as a branch."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import git

from .patch_policy import PatchRejected, write_patch

__all__ = ["BOT", "PushRefused", "commit_patch", "push_branch", "remote_branch_sha"]

BOT = git.Actor("github-actions[bot]", "41898282+github-actions[bot]@users.noreply.github.com")
TRAILER = "Coder-Issue:"


class PushRefused(Exception):
    """The branch could not be pushed (or holds someone else's commits); a one-line message."""


def commit_patch(repo_path: Path, base: str, patch: str, message: str, issue: int, author: git.Actor = BOT) -> str:
    """A new commit (not on any branch) of PATCH applied to BASE's tree; returns its sha.

    The patch goes through a temporary index, so the checkout's working tree, index and HEAD stay as they are."""
    repo = git.Repo(repo_path)
    parent = repo.commit(base)
    with tempfile.TemporaryDirectory(prefix="coder-commit-") as tmp:
        env = {"GIT_INDEX_FILE": os.path.join(tmp, "index")}
        patch_file = write_patch(patch, Path(tmp))
        try:
            repo.git.read_tree(parent.hexsha, env=env)
            repo.git.apply("--cached", "--binary", str(patch_file), env=env)
            tree_sha = repo.git.write_tree(env=env)
        except git.GitCommandError as exc:
            raise PatchRejected(f"the patch does not apply to {parent.hexsha[:12]}: {exc.stderr.strip()}") from exc
    if tree_sha == parent.tree.hexsha:
        raise PatchRejected("the patch changes nothing in the base commit")
    full_message = f"{message.rstrip()}\n\n{TRAILER} #{issue}\n"
    commit = git.Commit.create_from_tree(repo, repo.tree(tree_sha), full_message, parent_commits=[parent], head=False,
                                         author=author, committer=author)
    return str(commit.hexsha)


def remote_branch_sha(repo_path: Path, remote: str, branch: str) -> str | None:
    """The sha BRANCH points to on REMOTE (None if it does not exist), fetched so its commits can be inspected."""
    repo = git.Repo(repo_path)
    try:
        out = str(repo.git.ls_remote(remote, f"refs/heads/{branch}"))
    except git.GitCommandError as exc:
        raise PushRefused(f"cannot read branch {branch} from {remote}: {exc.stderr.strip()}") from exc
    line = out.strip().splitlines()[0] if out.strip() else ""
    if not line:
        return None
    sha = line.split()[0]
    shallow = str(repo.git.rev_parse("--is-shallow-repository")).strip() == "true"  # actions/checkout's default
    try:
        repo.git.fetch("--quiet", "--no-tags", *(["--depth=1"] if shallow else []), remote, f"refs/heads/{branch}")
    except git.GitCommandError as exc:
        raise PushRefused(f"cannot fetch branch {branch} from {remote}: {exc.stderr.strip()}") from exc
    return sha


def _ours(repo: git.Repo, sha: str, issue: int) -> bool:
    """Whether SHA is a commit coder made for ISSUE (coder pushes one commit on top of the base, so anyone else's
    work on the branch would sit on top of it)."""
    commit = repo.commit(sha)
    return f"{TRAILER} #{issue}" in str(commit.message) and commit.committer.email == BOT.email


def push_branch(repo_path: Path, remote: str, branch: str, sha: str, issue: int) -> str:
    """Point REMOTE's BRANCH at SHA: "created", "updated" (replacing coder's own earlier commit) or "unchanged".

    A branch holding commits coder did not make is never overwritten (PushRefused); the push uses a lease, so a
    concurrent push to the branch makes it fail instead of being lost."""
    repo = git.Repo(repo_path)
    current = remote_branch_sha(repo_path, remote, branch)
    if current is not None:
        old, new = repo.commit(current), repo.commit(sha)
        if old.tree.hexsha == new.tree.hexsha and old.parents == new.parents:
            return "unchanged"
        if not _ours(repo, current, issue):
            raise PushRefused(f"branch {branch} has commits coder did not make; not overwriting them (delete the "
                              "branch to start over)")
    lease = f"--force-with-lease=refs/heads/{branch}:{current or ''}"
    try:
        repo.git.push("--quiet", "--no-verify", lease, remote, f"{sha}:refs/heads/{branch}")
    except git.GitCommandError as exc:
        stderr = exc.stderr.strip()
        hint = ""
        if "403" in stderr or "denied" in stderr.lower() or "not allowed" in stderr.lower():
            hint = "; give the publish job `permissions: contents: write`"
        raise PushRefused(f"cannot push {branch}: {' '.join(stderr.split())[:400]}{hint}") from exc
    return "created" if current is None else "updated"
