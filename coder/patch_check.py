"""The one check every patch from the sandbox passes before it is shown or applied: plain paths inside the repo only.

A patch is hostile input (it came out of the sandbox). `git apply` takes `copy from /etc/passwd` or `../..` at its
word and reads the host file, so the check reads every git header itself, as git does, and refuses the whole patch
when any path in it is not a plain relative path inside the repository, touches `.git` in any spelling (`.GIT`,
`.git.`, `git~1`), copies or renames from outside, makes a submodule, or makes a symbolic link pointing outside.
Headers it does not recognise are refused too: a crafted line must not mean one thing here and another to git.

Used by the session (the run's final patch), coder/apply.py (both delivery paths) and the GitHub publish policy.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from .patch_headers import FileChange, UnsafePatch, parse_patch, shown

__all__ = ["FileChange", "UnsafePatch", "check_patch", "check_against_host", "path_problem"]

REGULAR_MODES = {"100644", "100755"}
SYMLINK, GITLINK = "120000", "160000"
# Characters HFS+ ignores in file names, so ".g\u200cit" is ".git" there (as git's own is_hfs_dotgit knows).
_HFS_IGNORED = re.compile("[\u200c-\u200f\u202a-\u202e\u206a-\u206f\ufeff]")
_DRIVE = re.compile(rb"^[A-Za-z]:$")
# Names git refuses as symbolic links (it reads them from the working tree).
_NO_LINK_NAMES = {".gitmodules", ".gitattributes", ".gitignore", ".mailmap"}


def _normalised(component: bytes) -> str:
    """A path component as Windows and macOS would see it: case folded, HFS-ignored characters, NTFS streams and
    trailing dots and spaces dropped."""
    text = _HFS_IGNORED.sub("", component.decode("utf-8", errors="surrogateescape"))
    return text.split(":", 1)[0].rstrip(" .").casefold()


def _is_dot_git(component: bytes) -> bool:
    return _normalised(component) in (".git", "git~1")


def path_problem(path: bytes) -> str | None:
    """Why PATH is not a plain relative path inside the repository (None when it is)."""
    if not path:
        return "an empty path"
    if path.startswith(b"/"):
        return f"{shown(path)}, an absolute path"
    if b"\\" in path or b"\0" in path:
        return f"{shown(path)}, which is not a plain path (backslash or NUL)"
    parts = path.split(b"/")
    if b".." in parts:
        return f"{shown(path)}, outside the repository"
    if b"" in parts or b"." in parts:
        return f"{shown(path)}, which is not a plain path (empty or '.' component)"
    if _DRIVE.match(parts[0]):
        return f"{shown(path)}, which names a drive"
    if any(_is_dot_git(part) for part in parts):
        return f"{shown(path)}, inside the .git directory"
    return None


def _check_name(path: bytes, verb: str) -> None:
    problem = path_problem(path)
    if problem:
        raise UnsafePatch(f"the patch {verb} {problem}")


def _link_problem(path: bytes, target: bytes) -> str | None:
    """Why a symbolic link at PATH pointing to TARGET could reach outside the repository (None when it cannot)."""
    if _normalised(path.rsplit(b"/", 1)[-1]) in _NO_LINK_NAMES:
        return f"the patch makes {shown(path)} a symbolic link, which git does not allow for that name"
    if not target or target.startswith(b"/") or b"\0" in target or b"\\" in target or b"\n" in target:
        return (f"the patch makes {shown(path)} a symbolic link to {shown(target)}, which points outside the "
                "repository; coder only accepts links to relative paths inside it")
    parts = target.split(b"/")
    ups = 0
    while ups < len(parts) and parts[ups] == b"..":
        ups += 1
    rest = parts[ups:]
    depth = path.count(b"/")  # directories between the repository's top and the link
    if ups > depth or not rest or any(p in (b"", b".", b"..") for p in rest) or any(_is_dot_git(p) for p in rest):
        return (f"the patch makes {shown(path)} a symbolic link to {shown(target)}, which points outside the "
                "repository (or into .git); coder only accepts links to plain paths inside it")
    return None


def _change_problem(change: FileChange) -> str | None:
    for verb, path in ((change.source_verb, change.old), ("writes", change.new)):
        if path is None:
            continue
        problem = path_problem(path)
        if problem:
            return f"the patch {verb} {problem}"
    for mode in change.modes:
        if mode == GITLINK:
            name = shown(change.new or change.old or b"")
            return f"the patch makes {name} a submodule (mode 160000); coder does not accept submodule changes"
        if mode not in REGULAR_MODES and mode != SYMLINK:
            return f"the patch gives {shown(change.new or change.old or b'')} the unknown mode {mode}"
    if change.result_mode == SYMLINK and change.new is not None:
        if change.link_target is None:
            return (f"the patch makes {shown(change.new)} a symbolic link without stating its target in full; "
                    "coder cannot check where it points, so it is refused")
        return _link_problem(change.new, change.link_target)
    return None


def check_patch(patch: str) -> list[FileChange]:
    """The file changes in PATCH, after checking every header; raises UnsafePatch with a one-line reason."""
    try:
        data = patch.encode("utf-8", errors="surrogateescape")
    except UnicodeEncodeError as exc:
        raise UnsafePatch("the patch holds characters that are not bytes of a file (lone surrogates)") from exc
    changes = parse_patch(data, _check_name)
    for change in changes:
        problem = _change_problem(change)
        if problem:
            raise UnsafePatch(problem)
    return changes


def check_against_host(changes: list[FileChange], host_mode: Callable[[bytes], str | None]) -> None:
    """Refuse changes the text alone cannot judge: git applies a hunk to whatever is on the host, so changing,
    moving or copying a path that is a symbolic link or a submodule there (HOST_MODE tells) is refused unless the
    patch states the link's new target (already checked). Raises UnsafePatch."""
    for change in changes:
        if change.old is None:
            continue
        mode = host_mode(change.old)
        if mode == GITLINK:
            raise UnsafePatch(f"the patch changes {shown(change.old)}, a submodule; coder does not accept that")
        if mode == SYMLINK and change.new is not None:
            if change.result_mode in REGULAR_MODES and change.kind not in ("rename", "copy"):
                continue  # it becomes a regular file (or git refuses the type mismatch)
            if change.link_target is None:
                raise UnsafePatch(f"the patch {change.source_verb} {shown(change.old)}, a symbolic link on your side, "
                                  "without stating its new target; coder cannot check where it would point")
            problem = _link_problem(change.new, change.link_target)
            if problem:
                raise UnsafePatch(f"{problem} (it is a symbolic link on your side)")
