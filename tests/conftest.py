"""Shared test setup: the tool package on sys.path, temp git repos, and byte-level snapshots of a tree."""

import sys
from pathlib import Path
from typing import Callable

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))

from repo_helpers import BUGGY_REPO, git, tree_snapshot  # noqa: E402,F401


@pytest.fixture
def make_repo(tmp_path: Path) -> Callable[..., Path]:
    """Create a committed git repo from {relative path: text or bytes}."""

    def _make(files: dict[str, str | bytes], name: str = "repo", commit: bool = True) -> Path:
        repo = tmp_path / name
        repo.mkdir()
        for rel, content in files.items():
            path = repo / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(content)
        git(repo, "init", "-q", "-b", "main")
        git(repo, "config", "user.name", "t")
        git(repo, "config", "user.email", "t@example.com")
        if commit:
            git(repo, "add", "-A")
            git(repo, "commit", "-qm", "init")
        return repo

    return _make


@pytest.fixture
def buggy_repo(make_repo: Callable[..., Path]) -> Path:
    """A tiny Python repo with one failing test (add subtracts)."""
    return make_repo(BUGGY_REPO)
