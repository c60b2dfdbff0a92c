"""The publish job's patch checks, on real git diffs against a real repository, and its commit and push."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from coder.github.gitops import BOT, PushRefused, commit_patch, push_branch
from coder.github.patch_policy import PatchPolicy, PatchRejected, _workflow_problem, check_patch
from repo_helpers import git, worktree_snapshot

FILES = {"app.py": "x = 1\n", "README.md": "hello\n", ".github/workflows/ci.yml": "on: push\n"}


@pytest.fixture
def repo(make_repo: Callable[..., Path]) -> Path:
    return make_repo(FILES)


def diff_after(repo: Path, change: Callable[[Path], None]) -> str:
    """The staged diff (renames detected, binary-safe) of CHANGE applied to REPO, which is then restored."""
    change(repo)
    git(repo, "add", "-A")
    patch = git(repo, "diff", "--cached", "-M", "--binary")
    git(repo, "reset", "-q", "--hard")
    git(repo, "clean", "-qfdx")
    return patch


def head(repo: Path) -> str:
    return git(repo, "rev-parse", "HEAD").strip()


def write(rel: str, text: str) -> Callable[[Path], None]:
    def change(repo: Path) -> None:
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text(text)
    return change


def test_plain_patch_passes_and_lists_its_paths(repo: Path) -> None:
    patch = diff_after(repo, lambda r: (write("app.py", "x = 2\n")(r), write("pkg/new.py", "y = 1\n")(r)))
    assert check_patch(repo, head(repo), patch, PatchPolicy()) == ["app.py", "pkg/new.py"]


@pytest.mark.parametrize("change", [
    write(".github/workflows/ci.yml", "on: pull_request\n"),
    write(".github/workflows/new.yml", "on: push\n"),
    lambda r: os.rename(r / "README.md", r / ".github/workflows/readme.yml"),
    lambda r: os.remove(r / ".github/workflows/ci.yml"),
    lambda r: os.rename(r / ".github/workflows/ci.yml", r / "ci.yml"),
], ids=["modify", "create", "rename-into", "delete", "rename-out-of"])
def test_workflow_changes_are_blocked_by_default_and_allowed_by_the_input(repo: Path,
                                                                          change: Callable[[Path], None]) -> None:
    patch = diff_after(repo, change)
    with pytest.raises(PatchRejected, match=r"\.github/workflows/.*allow-workflow-changes is 'true'"):
        check_patch(repo, head(repo), patch, PatchPolicy())
    assert check_patch(repo, head(repo), patch, PatchPolicy(allow_workflow_changes=True))


def test_workflow_check_ignores_case(repo: Path) -> None:
    patch = diff_after(repo, write(".GitHub/Workflows/x.yml", "on: push\n"))
    with pytest.raises(PatchRejected, match="workflow"):
        check_patch(repo, head(repo), patch, PatchPolicy())


def test_symbolic_links_are_refused(repo: Path) -> None:
    patch = diff_after(repo, lambda r: os.symlink("/etc/passwd", r / "link"))
    with pytest.raises(PatchRejected, match="symbolic link"):
        check_patch(repo, head(repo), patch, PatchPolicy(allow_workflow_changes=True))


@pytest.mark.parametrize("path,problem", [
    ("../outside.txt", "outside the repository"), ("a/../../outside.txt", "outside the repository"),
    (".git/hooks/post-checkout", "inside the .git directory"), ("sub/.git/config", "inside the .git directory"),
    (".GIT/config", "inside the .git directory"), (".git./config", "inside the .git directory"),
    ("a/./b", "not a plain path"), ("a//b", "not a plain path")])
def test_paths_outside_the_repository_are_refused_by_the_shared_check(repo: Path, path: str, problem: str) -> None:
    patch = (f"diff --git a/{path} b/{path}\nnew file mode 100644\n--- /dev/null\n+++ b/{path}\n@@ -0,0 +1 @@\n+boom\n")
    with pytest.raises(PatchRejected, match=f"^the patch changes '{re.escape(path)}', .*{problem}"):
        check_patch(repo, head(repo), patch, PatchPolicy(allow_workflow_changes=True))


@pytest.mark.parametrize("source", ["/etc/passwd", "../../etc/passwd", ".git/config"])
def test_copies_from_outside_are_refused_by_the_shared_check(repo: Path, source: str) -> None:
    patch = f"diff --git a/{source.lstrip('/')} b/leak.txt\nsimilarity index 100%\ncopy from {source}\ncopy to leak.txt\n"
    with pytest.raises(PatchRejected, match=f"^the patch copies from '{re.escape(source)}'"):
        check_patch(repo, head(repo), patch, PatchPolicy(allow_workflow_changes=True))


@pytest.mark.parametrize("path,problem", [
    (".github/workflows/x.yml", "workflow"), (".GitHub/Workflows/x.yml", "workflow"), ("src/ok.py", None),
    (".github/dependabot.yml", None)])
def test_workflow_rule(path: str, problem: str | None) -> None:
    found = _workflow_problem(path, PatchPolicy())
    assert (found is None) if problem is None else (problem in (found or ""))


def test_size_and_file_count_limits(repo: Path) -> None:
    patch = diff_after(repo, lambda r: [write(f"f{n}.txt", "x\n" * 50)(r) for n in range(3)])
    with pytest.raises(PatchRejected, match=r"over the limit of 100 \(max-patch-bytes\)"):
        check_patch(repo, head(repo), patch, PatchPolicy(max_bytes=100))
    with pytest.raises(PatchRejected, match="touches 3 files, over the limit of 2"):
        check_patch(repo, head(repo), patch, PatchPolicy(max_files=2))


def test_patch_that_does_not_apply_to_the_base_is_refused(repo: Path) -> None:
    patch = diff_after(repo, write("app.py", "x = 2\n"))
    (repo / "app.py").write_text("x = 3\n")
    git(repo, "commit", "-qam", "moved on")
    with pytest.raises(PatchRejected, match="does not apply to"):
        check_patch(repo, head(repo), patch, PatchPolicy())


def test_empty_and_garbage_patches_are_refused(repo: Path) -> None:
    with pytest.raises(PatchRejected, match="empty"):
        check_patch(repo, head(repo), "  \n", PatchPolicy())
    with pytest.raises(PatchRejected, match="line 1 of the patch is not part of a file section git would read"):
        check_patch(repo, head(repo), "this is not a diff\n", PatchPolicy())


def test_commit_leaves_the_checkout_alone_and_push_creates_then_keeps_the_branch(repo: Path, tmp_path: Path) -> None:
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", str(remote))
    git(repo, "remote", "add", "origin", str(remote))
    git(repo, "push", "-q", "origin", "main")
    base = head(repo)
    patch = diff_after(repo, write("app.py", "x = 2\n"))
    (repo / "scratch.txt").write_text("the user's uncommitted file\n")
    before = worktree_snapshot(repo)
    sha = commit_patch(repo, base, patch, "coder: fix (#3)\n\nbody", 3)
    assert worktree_snapshot(repo) == before and head(repo) == base
    assert git(repo, "show", f"{sha}:app.py") == "x = 2\n"
    assert git(repo, "log", "-1", "--format=%an <%ae>|%cn", sha).strip() == f"{BOT.name} <{BOT.email}>|{BOT.name}"
    assert push_branch(repo, "origin", "coder/issue-3", sha, 3) == "created"
    again = commit_patch(repo, base, patch, "coder: fix (#3)\n\nbody", 3)
    assert push_branch(repo, "origin", "coder/issue-3", again, 3) == "unchanged"
    other = commit_patch(repo, base, diff_after(repo, write("app.py", "x = 5\n")), "coder: fix (#3)", 3)
    assert push_branch(repo, "origin", "coder/issue-3", other, 3) == "updated"
    assert git(remote, "rev-parse", "coder/issue-3").strip() == other
    elsewhere = tmp_path / "elsewhere"  # someone adds a commit of their own to the branch
    git(tmp_path, "clone", "-q", "-b", "coder/issue-3", str(remote), str(elsewhere))
    (elsewhere / "app.py").write_text("x = 6\n")
    git(elsewhere, "commit", "-qam", "my tweak")
    git(elsewhere, "push", "-q", "origin", "coder/issue-3")
    with pytest.raises(PushRefused, match="commits coder did not make"):
        push_branch(repo, "origin", "coder/issue-3", sha, 3)
    assert git(remote, "rev-parse", "coder/issue-3").strip() == git(elsewhere, "rev-parse", "HEAD").strip()
