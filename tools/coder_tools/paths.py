"""Paths git refuses to track: '.git' in any case or NTFS/HFS+ disguise ('.GIT', '.git.', 'git~1', '.g\\u200cit').

Mirrors git's verify_path() with core.protectNTFS and core.protectHFS on (the server's git runs with both), so a file
the tools would write there could never reach a snapshot or the patch, and one a command made can be left out.
"""

from __future__ import annotations

import os

from .base import ToolError, Workspace

# Code points HFS+ ignores when comparing names (git's next_hfs_char).
_HFS_IGNORED = frozenset(
    [*range(0x200C, 0x2010), *range(0x202A, 0x202F), *range(0x206A, 0x2070), 0xFEFF]
)


def _ntfs_dotgit(name: str, stem: str) -> bool:
    """NTFS: STEM ('.git', 'git~1') in any case, then only spaces and dots up to the end or an ':' stream name."""
    if name[: len(stem)].lower() != stem:
        return False
    for c in name[len(stem) :]:
        if c == ":":
            return True
        if c not in " .":
            return False
    return True


def _hfs_fold(name: str) -> str:
    return "".join(c for c in name if ord(c) not in _HFS_IGNORED).lower()


def refused_component(name: str, symlink: bool = False) -> bool:
    """Whether git refuses a path with this component (symlink: the component is the last one and a link)."""
    if name in ("", ".", ".."):
        return True
    if name.lower() == ".git" or _hfs_fold(name) == ".git":
        return True
    if any(_ntfs_dotgit(part, ".git") or _ntfs_dotgit(part, "git~1") for part in name.split("\\")):
        return True
    if symlink:
        folded = _hfs_fold(name)
        if folded == ".gitmodules" or _ntfs_dotgit(folded, ".gitmodules"):
            return True
        if len(name) == 8 and name[:7].lower() in ("gitmod~", "gi7eba~") and name[7].isdigit():
            return True
    return False


def refused_prefix(rel: str, symlink: bool = False) -> str | None:
    """The shortest leading part of REL (a '/'-separated repo path) that git refuses, or None when git takes it."""
    parts = rel.split("/")
    for i, part in enumerate(parts):
        if refused_component(part, symlink and i == len(parts) - 1):
            return "/".join(parts[: i + 1])
    return None


def check_writable(path: str, ws: Workspace) -> None:
    """Raise ToolError when a file tool must not write PATH: git refuses it as given, or where it really leads."""
    given = path.strip().replace(os.sep, "/")
    if os.path.isabs(given):
        given = os.path.relpath(given, ws.root).replace(os.sep, "/")
    resolved = ws.rel(ws.resolve(path, must_exist=False))
    for rel in (given, resolved):
        parts = [p for p in rel.split("/") if p not in ("", ".")]
        prefix = refused_prefix("/".join(parts)) if parts else None
        if prefix is not None and ".." not in prefix.split("/"):
            raise ToolError(
                f"refusing to write '{path}': git cannot track '{prefix}' (git treats the name as its own '.git' "
                "directory: '.git' in any letter case, with trailing dots or spaces, 'git~1', a ':stream' suffix or "
                "invisible characters), so the file could never reach the patch. Choose another name."
            )
