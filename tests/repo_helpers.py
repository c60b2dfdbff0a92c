"""Helpers shared by tests: git with a fixed identity and byte-level snapshots of a tree."""

import hashlib
import os
import subprocess
from pathlib import Path

GIT_ENV = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.com"}


def git(repo: Path, *args: str) -> str:
    """Run git in REPO with a fixed identity; return stdout."""
    env = {**os.environ, **GIT_ENV}
    return subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True, text=True).stdout


def tree_snapshot(root: Path) -> dict[str, str]:
    """Every path under ROOT (the .git directory included) mapped to a hash of its bytes or link target."""
    snap: dict[str, str] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(filenames) + [d for d in dirnames if os.path.islink(os.path.join(dirpath, d))]:
            path = Path(dirpath) / name
            rel = path.relative_to(root).as_posix()
            if path.is_symlink():
                snap[rel] = "link:" + os.readlink(path)
            else:
                snap[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
    return snap


def worktree_snapshot(root: Path) -> dict[str, str]:
    """The working tree's bytes plus the index and HEAD; new git objects and refs are allowed to appear."""
    return {k: v for k, v in tree_snapshot(root).items() if not k.startswith(".git/") or k in (".git/index", ".git/HEAD")}


BUGGY_REPO = {
    "calc.py": "def add(a, b):\n    return a - b\n\n\ndef mul(a, b):\n    return a * b\n",
    "tests/test_calc.py": "from calc import add, mul\n\n\ndef test_add():\n    assert add(2, 3) == 5\n\n\ndef test_mul():\n    assert mul(2, 3) == 6\n",
    ".gitignore": "build/\n",
}


def sandbox_leftovers(kind: str, scratch: Path | None = None, owners: tuple[int, ...] = ()) -> list[str]:
    """What a closed sandbox may have left behind: temp dirs (local) or labelled containers (docker) owned by this
    process, by one of OWNERS, or by a process that is gone; the sandboxes of other live runs (an eval beside the
    tests) are not ours."""
    if kind == "local":
        return [p.name for p in scratch.iterdir()] if scratch else []
    from coder.sandboxes.docker import docker_client
    from coder.sandboxes.docker_image import LABEL
    from coder.sandboxes.owner import liveness, owner_pid

    mine = {os.getpid(), *owners}
    return [c.name for c in docker_client().containers.list(all=True, filters={"label": LABEL})
            if owner_pid(c.labels) in mine or liveness(c.labels) != "alive"]
