"""What the publish job accepts from the agent job: a patch that applies, stays inside the repo and leaves workflows be.

The agent job ran a model on untrusted issue text, so its patch is checked before it is committed with a write token:
size, every path it touches (as git itself parses them), no workflow files unless allowed, no symbolic links or
submodules, no paths outside the repository or inside .git, and ``git apply --check`` against the base commit.
"""

from __future__ import annotations

import os
import posixpath
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

import git

__all__ = ["PatchPolicy", "PatchRejected", "WORKFLOW_DIR", "check_patch", "patch_paths"]

WORKFLOW_DIR = ".github/workflows/"
_SPECIAL_MODE = re.compile(r"^(?:new file mode|new mode|old mode|deleted file mode) (120000|160000)$"
                           r"|^index [0-9a-f]+\.\.[0-9a-f]+ (120000|160000)$", re.MULTILINE)


class PatchRejected(Exception):
    """The patch may not be published; the message says why (and which input would allow it, if any)."""


@dataclass(frozen=True)
class PatchPolicy:
    allow_workflow_changes: bool = False
    max_bytes: int = 1_000_000
    max_files: int = 100


def write_patch(patch: str, directory: Path) -> Path:
    path = directory / "coder.patch"
    path.write_bytes((patch if patch.endswith("\n") else patch + "\n").encode("utf-8", errors="surrogateescape"))
    return path


def patch_paths(repo: git.Repo, patch_file: Path) -> list[str]:
    """Every path the patch touches (both sides of renames), as `git apply --numstat -z` reads them."""
    try:
        out = repo.git.apply("--numstat", "-z", str(patch_file), strip_newline_in_stdout=False)
    except git.GitCommandError as exc:
        raise PatchRejected(f"the patch is not a valid git diff: {_stderr(exc)}") from exc
    paths: list[str] = []
    fields = out.split("\0")
    i = 0
    while i < len(fields):
        entry = fields[i]
        if not entry.strip():
            i += 1
            continue
        parts = entry.split("\t")
        if len(parts) == 3 and parts[2] == "":  # a rename or copy: the two paths follow as their own fields
            paths.extend(fields[i + 1:i + 3])
            i += 3
        else:
            paths.append(parts[-1])
            i += 1
    return paths


def _path_problem(path: str, policy: PatchPolicy) -> str | None:
    if not path or path.startswith("/") or "\\" in path:
        return f"the patch touches {path!r}, which is not a plain path inside the repository"
    parts = path.split("/")
    if ".." in parts or posixpath.normpath(path) != path:
        return f"the patch touches {path!r}, outside the repository"
    if any(part.casefold() == ".git" for part in parts):
        return f"the patch touches {path!r}, inside the .git directory"
    if path.casefold().startswith(WORKFLOW_DIR) and not policy.allow_workflow_changes:
        return (f"the patch changes {path}, a GitHub Actions workflow; coder does not publish workflow changes "
                "unless the action's input allow-workflow-changes is 'true'")
    return None


def check_patch(repo_path: Path, base: str, patch: str, policy: PatchPolicy) -> list[str]:
    """The paths PATCH touches, after checking it against POLICY and that it applies to commit BASE.

    Raises PatchRejected with the first problem found."""
    if not patch.strip():
        raise PatchRejected("the patch is empty")
    size = len(patch.encode("utf-8", errors="surrogateescape"))
    if size > policy.max_bytes:
        raise PatchRejected(f"the patch is {size} bytes, over the limit of {policy.max_bytes} (max-patch-bytes)")
    special = _SPECIAL_MODE.search(patch)
    if special:
        kind = "a symbolic link" if "120000" in special.group(0) else "a submodule"
        raise PatchRejected(f"the patch changes {kind} ({special.group(0)!r}); coder only publishes regular files")
    repo = git.Repo(repo_path)
    with tempfile.TemporaryDirectory(prefix="coder-check-") as tmp:
        patch_file = write_patch(patch, Path(tmp))
        paths = patch_paths(repo, patch_file)
        if not paths:
            raise PatchRejected("the patch changes no file")
        if len(set(paths)) > policy.max_files:
            raise PatchRejected(f"the patch touches {len(set(paths))} files, over the limit of {policy.max_files}")
        for path in paths:
            problem = _path_problem(path, policy)
            if problem:
                raise PatchRejected(problem)
        env = {"GIT_INDEX_FILE": os.path.join(tmp, "index")}
        try:
            repo.git.read_tree(base, env=env)
            repo.git.apply("--cached", "--check", "--binary", str(patch_file), env=env)
        except git.GitCommandError as exc:
            raise PatchRejected(f"the patch does not apply to {base[:12]}: {_stderr(exc)}") from exc
    return sorted(set(paths))


def _stderr(exc: git.GitCommandError) -> str:
    text = str(exc.stderr or "").strip().removeprefix("stderr:").strip().strip("'").strip()
    return " ".join(text.split())[:500] or str(exc)
