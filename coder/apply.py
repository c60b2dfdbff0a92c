"""Putting an accepted patch on the host with git: into the working tree, or as a commit on a new branch.

Nothing here runs unless the user accepted. A dirty working tree is never overwritten: applying into it is refused
unless the user asked to stash, in which case a backup of the current state is stored with `git stash` first.
Committing on a branch uses a temporary worktree, so the user's working tree, index and current branch stay as they are.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

import git


class ApplyError(Exception):
    """The patch could not be put on the host; the message says why and nothing was changed."""


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
    return open_repo(path).is_dirty(index=True, working_tree=True, untracked_files=False)


def _check_applies(repo: git.Repo, patch_file: Path, where: str) -> None:
    try:
        repo.git.apply("--check", "--binary", str(patch_file))
    except git.GitCommandError as exc:
        raise ApplyError(f"the patch does not apply to {where}: {exc.stderr.strip().removeprefix('stderr: ')}") from exc


def _write_patch(patch: str, directory: Path) -> Path:
    path = directory / "coder.patch"
    path.write_text(patch if patch.endswith("\n") else patch + "\n", encoding="utf-8", errors="surrogateescape")
    return path


def apply_to_worktree(path: Path, patch: str, stash: bool = False) -> str | None:
    """Apply PATCH to the working tree. Returns the backup stash message when one was made."""
    if not patch.strip():
        raise ApplyError("the patch is empty; there is nothing to apply")
    repo = open_repo(path)
    backup = None
    if repo.is_dirty(index=True, working_tree=True, untracked_files=False):
        if not stash:
            raise ApplyError("your working tree has uncommitted changes; commit them, use --branch NAME, or pass --stash "
                             "to store a backup with git stash before applying")
    with tempfile.TemporaryDirectory(prefix="coder-apply-") as tmp:
        patch_file = _write_patch(patch, Path(tmp))
        _check_applies(repo, patch_file, "your working tree")
        if repo.is_dirty(index=True, working_tree=True, untracked_files=False):
            sha = repo.git.stash("create").strip()
            if sha:
                backup = "coder: backup before applying patch"
                repo.git.stash("store", "-m", backup, sha)
        repo.git.apply("--binary", str(patch_file))
    return backup


FALLBACK_IDENTITY = {"user.name": "coder", "user.email": "coder@localhost"}


def _fallback_identity(repo: git.Repo) -> list[str]:
    """["user.name=coder", "user.email=coder@localhost"] (for `git -c`), whichever is unset, when git has no identity."""
    try:
        repo.git.var("GIT_AUTHOR_IDENT")
        repo.git.var("GIT_COMMITTER_IDENT")
        return []
    except git.GitCommandError:
        pass
    options: list[str] = []
    for key, value in FALLBACK_IDENTITY.items():
        try:
            repo.git.config("--get", key)
        except git.GitCommandError:
            options.append(f"{key}={value}")
    return options


def commit_on_branch(path: Path, patch: str, branch: str, message: str) -> str:
    """Commit PATCH on a new branch made from HEAD, without touching the working tree. Returns the commit sha."""
    if not patch.strip():
        raise ApplyError("the patch is empty; there is nothing to commit")
    repo = open_repo(path)
    try:
        repo.git.check_ref_format("--branch", branch)
    except git.GitCommandError as exc:
        raise ApplyError(f"'{branch}' is not a valid branch name") from exc
    if branch in [h.name for h in repo.heads]:
        raise ApplyError(f"branch '{branch}' already exists; choose another name")
    try:
        repo.head.commit
    except ValueError as exc:
        raise ApplyError("the repository has no commits yet; make a first commit before using --branch") from exc
    tmp = Path(tempfile.mkdtemp(prefix="coder-branch-"))
    worktree = tmp / "worktree"
    quiet = ["core.hooksPath=/dev/null", "commit.gpgsign=false"]  # the user's hooks and signing stay out of it
    try:
        repo.git(c=quiet).worktree("add", "--quiet", "-b", branch, str(worktree), "HEAD")
        try:
            wt = git.Repo(worktree)
            options = quiet + _fallback_identity(wt)

            def wt_git(name: str, *args: str) -> str:
                # GitPython's git(c=...) applies to the next command only, so set the options on every call.
                return str(getattr(wt.git(c=options), name)(*args))

            patch_file = _write_patch(patch, tmp)
            try:
                wt_git("apply", "--check", "--binary", str(patch_file))
            except git.GitCommandError as exc:
                raise ApplyError("the patch does not apply to HEAD (it may depend on uncommitted changes): "
                                 f"{exc.stderr.strip().removeprefix('stderr: ')}") from exc
            wt_git("apply", "--binary", str(patch_file))
            wt_git("add", "-A")
            wt_git("commit", "-q", "--no-verify", "-m", message)
            sha = wt.head.commit.hexsha
        except BaseException:
            _quietly(repo.git.worktree, "remove", "--force", str(worktree))
            _quietly(repo.git.branch, "-D", branch)
            raise
        repo.git.worktree("remove", "--force", str(worktree))
        return sha
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        _quietly(repo.git.worktree, "prune")


def _quietly(command: Any, *args: str) -> None:
    """Best-effort cleanup that must not hide the error being handled."""
    try:
        command(*args)
    except git.GitCommandError:
        pass
