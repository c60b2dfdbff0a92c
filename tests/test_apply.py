"""Putting patches on the host with real git: into the working tree, or as a commit on a new branch."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from coder.apply import ApplyError, apply_to_worktree, commit_on_branch, is_dirty
from repo_helpers import BUGGY_REPO, git, tree_snapshot

FIXED_CALC = BUGGY_REPO["calc.py"].replace("a - b", "a + b")
WORKTREE_FILE = "NOTES.txt"


def plain_git(repo: Path, *args: str) -> str:
    """git without the fixed test identity, so the repo's own configuration decides."""
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True).stdout


def make_patch(repo: Path, changes: dict[str, str | None]) -> str:
    """A `git diff` patch against REPO's HEAD, made in a throwaway clone (None deletes a file)."""
    scratch = repo.parent / f"{repo.name}-scratch"
    subprocess.run(["git", "clone", "-q", str(repo), str(scratch)], check=True, capture_output=True)
    for rel, content in changes.items():
        if content is None:
            (scratch / rel).unlink()
        else:
            (scratch / rel).parent.mkdir(parents=True, exist_ok=True)
            (scratch / rel).write_text(content)
    git(scratch, "add", "-A")
    patch = git(scratch, "diff", "--cached", "--binary")
    subprocess.run(["rm", "-rf", str(scratch)], check=True)
    return patch


def working_files(repo: Path) -> dict[str, str]:
    """Snapshot of the working tree without .git."""
    return {rel: digest for rel, digest in tree_snapshot(repo).items() if not rel.startswith(".git/")}


def user_state(repo: Path) -> tuple[str, str, str, str, dict[str, str]]:
    """Everything commit_on_branch must leave alone: status, index contents, branch, HEAD and file bytes."""
    return (
        plain_git(repo, "status", "--porcelain", "--untracked-files=all"),
        plain_git(repo, "diff", "--cached", "--binary"),
        plain_git(repo, "rev-parse", "--abbrev-ref", "HEAD"),
        plain_git(repo, "rev-parse", "HEAD"),
        working_files(repo),
    )


def worktree_count(repo: Path) -> int:
    """Lines of `git worktree list`: 1 means only the user's own working tree."""
    return len(plain_git(repo, "worktree", "list").splitlines())


@pytest.fixture
def repo(buggy_repo: Path) -> Path:
    return buggy_repo


@pytest.fixture
def fix_patch(repo: Path) -> str:
    return make_patch(repo, {"calc.py": FIXED_CALC, "docs/new.md": "new file\n"})


def make_dirty(repo: Path) -> None:
    """An unstaged change, a staged change and an untracked file, none of them touching calc.py."""
    (repo / "tests" / "test_calc.py").write_text(BUGGY_REPO["tests/test_calc.py"] + "\n# local edit\n")
    (repo / ".gitignore").write_text("build/\n*.log\n")
    git(repo, "add", ".gitignore")
    (repo / WORKTREE_FILE).write_text("untracked notes\n")


# --- apply_to_worktree ---------------------------------------------------------------------------------------------


def test_apply_clean_tree(repo: Path, fix_patch: str) -> None:
    head = plain_git(repo, "rev-parse", "HEAD")
    assert apply_to_worktree(repo, fix_patch) is None
    assert (repo / "calc.py").read_text() == FIXED_CALC
    assert (repo / "docs" / "new.md").read_text() == "new file\n"
    assert plain_git(repo, "rev-parse", "HEAD") == head  # applied, not committed
    assert plain_git(repo, "stash", "list") == ""


def test_apply_refuses_dirty_tree_and_changes_nothing(repo: Path, fix_patch: str) -> None:
    make_dirty(repo)
    plain_git(repo, "status")  # refresh the index stat cache so the snapshot is stable
    before = tree_snapshot(repo)
    with pytest.raises(ApplyError, match="uncommitted changes"):
        apply_to_worktree(repo, fix_patch)
    assert tree_snapshot(repo) == before


def test_apply_with_stash_backs_up_then_applies(repo: Path, fix_patch: str) -> None:
    make_dirty(repo)
    local_diff = plain_git(repo, "diff", "HEAD", "--", "tests/test_calc.py", ".gitignore")
    backup = apply_to_worktree(repo, fix_patch, stash=True)
    assert backup is not None
    stashes = plain_git(repo, "stash", "list").splitlines()
    assert len(stashes) == 1 and backup in stashes[0]
    assert plain_git(repo, "diff", "HEAD", "stash@{0}") == local_diff  # the backup holds the user's changes
    assert (repo / "calc.py").read_text() == FIXED_CALC
    # the user's own changes stay in place (the stash is a backup, not a reset)
    assert "# local edit" in (repo / "tests" / "test_calc.py").read_text()
    assert (repo / WORKTREE_FILE).read_text() == "untracked notes\n"


def test_apply_with_stash_on_clean_tree_makes_no_stash(repo: Path, fix_patch: str) -> None:
    assert apply_to_worktree(repo, fix_patch, stash=True) is None
    assert plain_git(repo, "stash", "list") == ""
    assert (repo / "calc.py").read_text() == FIXED_CALC


@pytest.mark.parametrize("dirty", [False, True])
def test_apply_patch_that_does_not_apply(repo: Path, dirty: bool) -> None:
    patch = make_patch(repo, {"calc.py": FIXED_CALC})
    (repo / "calc.py").write_text("something else entirely\n")
    git(repo, "commit", "-qam", "rewrite calc")
    if dirty:
        make_dirty(repo)
    plain_git(repo, "status")
    before = tree_snapshot(repo)
    with pytest.raises(ApplyError, match="does not apply"):
        apply_to_worktree(repo, patch, stash=True)
    assert tree_snapshot(repo) == before  # no stash was made either


@pytest.mark.parametrize("patch", ["", "   \n\n"])
def test_empty_patch(repo: Path, patch: str) -> None:
    before = tree_snapshot(repo)
    with pytest.raises(ApplyError, match="empty"):
        apply_to_worktree(repo, patch)
    with pytest.raises(ApplyError, match="empty"):
        commit_on_branch(repo, patch, "coder/fix", "msg")
    assert tree_snapshot(repo) == before


def test_not_a_repository(tmp_path: Path) -> None:
    with pytest.raises(ApplyError, match="not a git repository"):
        apply_to_worktree(tmp_path, "diff --git a/x b/x\n")


def test_is_dirty(repo: Path) -> None:
    assert not is_dirty(repo)
    (repo / WORKTREE_FILE).write_text("untracked only\n")
    assert not is_dirty(repo)  # untracked files do not count
    (repo / "calc.py").write_text("changed\n")
    assert is_dirty(repo)


# --- commit_on_branch ----------------------------------------------------------------------------------------------


def check_branch_commit(repo: Path, sha: str, branch: str, head: str, message: str) -> None:
    assert plain_git(repo, "rev-parse", branch).strip() == sha
    assert plain_git(repo, "rev-list", f"{head.strip()}..{branch}").split() == [sha]  # exactly one commit
    assert plain_git(repo, "rev-parse", f"{sha}^").strip() == head.strip()
    assert plain_git(repo, "log", "-1", "--format=%B", sha).strip() == message
    assert plain_git(repo, "diff", "--name-status", head.strip(), sha).splitlines() == ["M\tcalc.py", "A\tdocs/new.md"]
    assert plain_git(repo, "show", f"{sha}:calc.py") == FIXED_CALC
    assert plain_git(repo, "show", f"{sha}:docs/new.md") == "new file\n"
    assert worktree_count(repo) == 1


@pytest.mark.parametrize("dirty", [False, True], ids=["clean", "dirty"])
def test_commit_on_branch_leaves_user_state_alone(repo: Path, fix_patch: str, dirty: bool) -> None:
    if dirty:
        make_dirty(repo)
        (repo / "calc.py").write_text("# work in progress\n" + BUGGY_REPO["calc.py"])  # even the patched file
    before = user_state(repo)
    sha = commit_on_branch(repo, fix_patch, "coder/fix-add", "Fix add")
    assert user_state(repo) == before
    check_branch_commit(repo, sha, "coder/fix-add", before[3], "Fix add")
    assert plain_git(repo, "log", "-1", "--format=%an <%ae>", sha).strip() == "t <t@example.com>"  # user's identity


def test_commit_on_branch_existing_branch(repo: Path, fix_patch: str) -> None:
    git(repo, "branch", "taken")
    before = user_state(repo)
    with pytest.raises(ApplyError, match="already exists"):
        commit_on_branch(repo, fix_patch, "taken", "msg")
    assert user_state(repo) == before
    assert plain_git(repo, "rev-parse", "taken") == plain_git(repo, "rev-parse", "HEAD")


@pytest.mark.parametrize("name", ["bad..name", "has space", "-leading-dash", "ends.lock", ""])
def test_commit_on_branch_invalid_name(repo: Path, fix_patch: str, name: str) -> None:
    with pytest.raises(ApplyError, match="not a valid branch name"):
        commit_on_branch(repo, fix_patch, name, "msg")
    assert plain_git(repo, "branch", "--format=%(refname:short)").split() == ["main"]


def test_commit_on_branch_patch_does_not_apply_to_head(repo: Path) -> None:
    (repo / "calc.py").write_text("uncommitted base\n")
    patch = make_patch(repo, {"calc.py": FIXED_CALC})
    (repo / "calc.py").write_text("the user's own version\n")
    git(repo, "commit", "-qam", "move on")
    before = user_state(repo)
    with pytest.raises(ApplyError, match="does not apply to HEAD"):
        commit_on_branch(repo, patch, "coder/nope", "msg")
    assert user_state(repo) == before
    assert plain_git(repo, "branch", "--format=%(refname:short)").split() == ["main"]
    assert worktree_count(repo) == 1


def test_commit_on_branch_no_commits_yet(make_repo: Callable[..., Path]) -> None:
    repo = make_repo({"a.txt": "a\n"}, commit=False)
    with pytest.raises(ApplyError, match="no commits"):
        commit_on_branch(repo, "diff --git a/a.txt b/a.txt\n", "coder/x", "msg")


@pytest.fixture
def no_git_identity(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A HOME without .gitconfig, no system config and no identity variables: git cannot make up an identity."""
    home = tmp_path / "empty-home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for var in ("GIT_CONFIG_GLOBAL", "GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME",
                "GIT_COMMITTER_EMAIL", "EMAIL", "GIT_CONFIG_SYSTEM"):
        monkeypatch.delenv(var, raising=False)


def _identity_known(repo: Path) -> bool:
    return subprocess.run(["git", "var", "GIT_COMMITTER_IDENT"], cwd=repo, capture_output=True).returncode == 0


def test_commit_on_branch_without_any_identity(repo: Path, fix_patch: str, no_git_identity: None) -> None:
    git(repo, "config", "--unset", "user.name")
    git(repo, "config", "--unset", "user.email")
    if _identity_known(repo):
        pytest.skip("git auto-detects an identity on this machine (hostname with a domain)")
    before = user_state(repo)
    sha = commit_on_branch(repo, fix_patch, "coder/fix-add", "Fix add")
    assert user_state(repo) == before
    check_branch_commit(repo, sha, "coder/fix-add", before[3], "Fix add")
    assert plain_git(repo, "log", "-1", "--format=%an <%ae>|%cn <%ce>", sha).strip() == (
        "coder <coder@localhost>|coder <coder@localhost>")
    assert plain_git(repo, "config", "--list", "--local").count("user.") == 0  # nothing written to the config


def test_commit_on_branch_keeps_partial_identity(repo: Path, fix_patch: str, no_git_identity: None) -> None:
    git(repo, "config", "--unset", "user.email")
    if _identity_known(repo):
        pytest.skip("git auto-detects an email on this machine (hostname with a domain)")
    sha = commit_on_branch(repo, fix_patch, "coder/fix-add", "Fix add")
    assert plain_git(repo, "log", "-1", "--format=%an <%ae>", sha).strip() == "t <coder@localhost>"


def test_commit_on_branch_identity_from_environment(repo: Path, fix_patch: str, no_git_identity: None,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    git(repo, "config", "--unset", "user.name")
    git(repo, "config", "--unset", "user.email")
    for role in ("AUTHOR", "COMMITTER"):
        monkeypatch.setenv(f"GIT_{role}_NAME", "Env User")
        monkeypatch.setenv(f"GIT_{role}_EMAIL", "env@example.com")
    sha = commit_on_branch(repo, fix_patch, "coder/fix-add", "Fix add")
    assert plain_git(repo, "log", "-1", "--format=%an <%ae>", sha).strip() == "Env User <env@example.com>"



def test_branch_commit_runs_no_user_hooks(tmp_path: Path) -> None:
    """The temporary worktree must not trigger the user's post-checkout or commit hooks."""
    repo = tmp_path / "hooked"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "user.name", "t")
    git(repo, "config", "user.email", "t@example.com")
    (repo / "a.txt").write_text("one\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "init")
    marker = tmp_path / "hook-ran"
    for hook in ("post-checkout", "pre-commit", "commit-msg", "post-commit"):
        path = repo / ".git" / "hooks" / hook
        path.write_text(f"#!/bin/sh\necho {hook} >> {marker}\n")
        path.chmod(0o755)
    patch = "--- a/a.txt\n+++ b/a.txt\n@@ -1 +1 @@\n-one\n+two\n"
    commit_on_branch(repo, patch, "coder/hooks", "msg")
    assert not marker.exists()
    assert git(repo, "show", "coder/hooks:a.txt") == "two\n"


# --- the shared patch check and host git without programs from the repo (issue 13, items 2 and 4) ------------------


def copy_patch(source: str) -> str:
    return f"diff --git a/{source.lstrip('/')} b/leak.txt\nsimilarity index 100%\ncopy from {source}\ncopy to leak.txt\n"


@pytest.fixture
def outside_secret(repo: Path) -> str:
    (repo.parent / "secret.txt").write_text("host secret\n")
    return "../secret.txt"


@pytest.mark.parametrize("source", ["/etc/passwd", "../secret.txt", ".git/config"],
                         ids=["absolute", "dotdot", "git-config"])
@pytest.mark.parametrize("deliver", ["worktree", "branch"])
def test_copy_from_a_host_file_is_refused(repo: Path, outside_secret: str, source: str, deliver: str) -> None:
    before = tree_snapshot(repo)
    with pytest.raises(ApplyError, match="patch was refused"):
        if deliver == "worktree":
            apply_to_worktree(repo, copy_patch(source))
        else:
            commit_on_branch(repo, copy_patch(source), "coder/leak", "msg")
    assert not (repo / "leak.txt").exists()
    assert tree_snapshot(repo) == before  # no branch, no object, nothing
    assert plain_git(repo, "branch", "--format=%(refname:short)").split() == ["main"]


LINK_PATCH = ("diff --git a/docs-link b/docs-link\n--- a/docs-link\n+++ b/docs-link\n@@ -1 +1 @@\n"
              "-docs\n\\ No newline at end of file\n+/etc\n\\ No newline at end of file\n")


@pytest.mark.parametrize("deliver", ["worktree", "branch"])
def test_retargeting_a_host_symlink_without_saying_so_is_refused(repo: Path, deliver: str) -> None:
    """No mode line: git would apply the hunk to the link on the host and point it at /etc."""
    (repo / "docs").mkdir()
    (repo / "docs" / "x.md").write_text("x\n")
    (repo / "docs-link").symlink_to("docs")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "link")
    with pytest.raises(ApplyError, match="symbolic link on your side"):
        if deliver == "worktree":
            apply_to_worktree(repo, LINK_PATCH)
        else:
            commit_on_branch(repo, LINK_PATCH, "coder/link", "msg")
    assert (repo / "docs-link").readlink() == Path("docs")
    assert plain_git(repo, "branch", "--format=%(refname:short)").split() == ["main"]


def evil_filter(repo: Path, marker: Path) -> None:
    """The user's own config names a filter driver whose programs leave MARKER when they run."""
    for kind in ("clean", "smudge"):
        git(repo, "config", f"filter.evil.{kind}", f"sh -c 'echo {kind} >> {marker}; cat'")
    git(repo, "config", "filter.evil.required", "true")


ATTRIBUTES_PATCH_FILES = {".gitattributes": "* filter=evil\n", "data.txt": "plain bytes\n", "calc.py": FIXED_CALC}


def test_branch_commit_runs_no_filter_named_by_the_patch(repo: Path, tmp_path: Path) -> None:
    marker = tmp_path / "filter-ran"
    patch = make_patch(repo, ATTRIBUTES_PATCH_FILES)
    evil_filter(repo, marker)
    sha = commit_on_branch(repo, patch, "coder/attrs", "msg")
    assert not marker.exists()
    assert plain_git(repo, "show", f"{sha}:data.txt") == "plain bytes\n"
    assert plain_git(repo, "show", f"{sha}:.gitattributes") == "* filter=evil\n"


@pytest.mark.parametrize("attributes", ["in-repo", "from-patch"])
def test_apply_runs_no_filters(repo: Path, tmp_path: Path, attributes: str) -> None:
    """Applying into the working tree reads and writes files without the clean and smudge programs."""
    marker = tmp_path / "filter-ran"
    if attributes == "in-repo":  # e.g. added by an earlier accepted patch
        (repo / ".gitattributes").write_text("*.py filter=evil\n")
        git(repo, "add", ".gitattributes")
        git(repo, "commit", "-qm", "attributes")
        patch = make_patch(repo, {"calc.py": FIXED_CALC})
    else:
        patch = make_patch(repo, ATTRIBUTES_PATCH_FILES)
    evil_filter(repo, marker)
    apply_to_worktree(repo, patch)
    assert not marker.exists()
    assert (repo / "calc.py").read_text() == FIXED_CALC


def hooks_and_fsmonitor(repo: Path, marker: Path) -> None:
    """Every hook the delivery could reach, plus an fsmonitor hook program, each leaving MARKER when run."""
    for hook in ("post-checkout", "pre-commit", "commit-msg", "post-commit", "reference-transaction",
                 "post-index-change", "post-rewrite"):
        path = repo / ".git" / "hooks" / hook
        path.write_text(f"#!/bin/sh\necho {hook} >> {marker}\n")
        path.chmod(0o755)
    script = repo.parent / "fsmonitor.sh"
    script.write_text(f"#!/bin/sh\necho fsmonitor >> {marker}\nexit 1\n")
    script.chmod(0o755)
    git(repo, "config", "core.fsmonitor", str(script))


def test_delivery_runs_no_hooks_and_no_fsmonitor(repo: Path, fix_patch: str, tmp_path: Path) -> None:
    marker = tmp_path / "program-ran"
    make_dirty(repo)
    hooks_and_fsmonitor(repo, marker)
    commit_on_branch(repo, fix_patch, "coder/quiet", "msg")
    assert is_dirty(repo)
    assert apply_to_worktree(repo, fix_patch, stash=True)  # a stash backup (a ref update) and the apply
    assert not marker.exists(), marker.read_text()


@pytest.mark.parametrize("ok", [True, False], ids=["committed", "refused"])
def test_branch_commit_leaves_no_temp_dir_and_no_worktree(repo: Path, fix_patch: str, tmp_path: Path, ok: bool,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    import tempfile

    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    monkeypatch.setenv("TMPDIR", str(scratch))
    if ok:
        commit_on_branch(repo, fix_patch, "coder/tidy", "msg")
    else:
        with pytest.raises(ApplyError):
            commit_on_branch(repo, fix_patch.replace("return a - b", "return a / b"), "coder/tidy", "msg")
    assert list(scratch.iterdir()) == []
    assert worktree_count(repo) == 1
    assert not (repo / ".git" / "worktrees").exists() or not any((repo / ".git" / "worktrees").iterdir())
