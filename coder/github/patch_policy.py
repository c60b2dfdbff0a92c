"""What the publish job accepts from the agent job: a patch that applies, stays inside the repo and leaves workflows be.

The agent job ran a model on untrusted issue text, so its patch is checked before it is committed with a write token:
its size; every git header, by the check the CLI and the TUI use too (coder/patch_check.py: plain paths inside the
repository, nothing in .git in any spelling, no copy or rename from outside); that it applies to the base commit; and
every path it changes (as git reports them after applying it to a temporary index): no workflow files unless allowed,
no symbolic links or submodules, not too many files.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import git

from ..errors import CoderError
from ..patch_check import UnsafePatch
from ..patch_check import check_patch as check_headers

__all__ = ["PatchPolicy", "PatchRejected", "WORKFLOW_DIR", "check_patch", "write_patch"]

WORKFLOW_DIR = ".github/workflows/"


class PatchRejected(CoderError):
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


def _changes(repo: git.Repo, base: str, env: dict[str, str]) -> list[tuple[str, str]]:
    """(new mode, path) for every path the temporary index changes against BASE; renames count as delete + add."""
    out = repo.git.diff_index("--cached", "--raw", "-z", "--no-renames", base, env=env, strip_newline_in_stdout=False)
    fields = out.split("\0")
    changes = []
    for meta, path in zip(fields[0::2], fields[1::2]):
        if meta.startswith(":"):
            changes.append((meta[1:].split()[1], path))
    return changes


def _workflow_problem(path: str, policy: PatchPolicy) -> str | None:
    if path.casefold().startswith(WORKFLOW_DIR) and not policy.allow_workflow_changes:
        return (f"the patch changes {path}, a GitHub Actions workflow; coder does not publish workflow changes "
                "unless the action's input allow-workflow-changes is 'true'")
    return None


def check_patch(repo_path: Path, base: str, patch: str, policy: PatchPolicy) -> list[str]:
    """The paths PATCH touches, after checking that it applies to commit BASE and obeys POLICY.

    The patch is applied to a temporary index holding BASE (the checkout is not touched), and git itself reports what
    it changed, so renames, quoting and odd names are read exactly as git reads them. Raises PatchRejected."""
    if not patch.strip():
        raise PatchRejected("the patch is empty")
    size = len(patch.encode("utf-8", errors="surrogateescape"))
    if size > policy.max_bytes:
        raise PatchRejected(f"the patch is {size} bytes, over the limit of {policy.max_bytes} (max-patch-bytes)")
    try:
        check_headers(patch)
    except UnsafePatch as exc:
        raise PatchRejected(str(exc)) from exc
    repo = git.Repo(repo_path)
    with tempfile.TemporaryDirectory(prefix="coder-check-") as tmp:
        patch_file = write_patch(patch, Path(tmp))
        env = {"GIT_INDEX_FILE": os.path.join(tmp, "index")}
        try:
            repo.git.read_tree(base, env=env)
            repo.git.apply("--cached", "--binary", str(patch_file), env=env)
        except git.GitCommandError as exc:
            raise PatchRejected(f"the patch does not apply to {base[:12]}: {_stderr(exc)}") from exc
        changes = _changes(repo, base, env)
    if not changes:
        raise PatchRejected("the patch changes no file")
    if len(changes) > policy.max_files:
        raise PatchRejected(f"the patch touches {len(changes)} files, over the limit of {policy.max_files}")
    for mode, path in changes:
        problem = _workflow_problem(path, policy)
        if problem:
            raise PatchRejected(problem)
        if mode in ("120000", "160000"):
            kind = "a symbolic link" if mode == "120000" else "a submodule"
            raise PatchRejected(f"the patch makes {path} {kind}; coder only publishes regular files")
    return sorted(path for _, path in changes)


def _stderr(exc: git.GitCommandError) -> str:
    text = str(exc.stderr or "").strip().removeprefix("stderr:").strip()
    if len(text) >= 2 and text[0] == text[-1] == "'":  # GitPython quotes stderr
        text = text[1:-1]
    return " ".join(text.split())[:500] or str(exc)
