"""The server's own git process: immune to the workspace's config, hooks, attributes and environment, first in line
for the OOM killer, and failing as a GitError that says why (exit code, signal, stderr) instead of killing the server.

Git always reads $GIT_DIR/config and $GIT_DIR/info/attributes, and a command in the sandbox can write both. So the
server owns them: `pin()` puts back the config it recorded at start and its own info/attributes (the file with the
highest precedence, whose rules unset every attribute that runs a program or changes how content is read or shown)
before each of its git operations, and every call also overrides the dangerous settings on the command line.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import signal
import stat
import subprocess
from dataclasses import dataclass
from pathlib import Path

TIMEOUT = 100.0  # seconds per git process; the host waits 120 s for snapshot, restore and patch

# Unset (not false: '!') every attribute that could run a filter, textconv or diff driver, convert line ends or
# encodings, expand $Id$, or mark a text file binary; git then decides binary-or-text from the content alone.
NEUTRAL_ATTRIBUTES = "* !diff !merge !text !eol !crlf !filter !ident !working-tree-encoding !binary !whitespace\n"

_OVERRIDES = {
    "core.hooksPath": "/dev/null",
    "core.fsmonitor": "false",
    "core.untrackedCache": "false",
    "core.splitIndex": "false",
    "core.attributesFile": "/dev/null",
    "core.excludesFile": "/dev/null",
    "core.autocrlf": "false",
    "core.safecrlf": "false",
    "core.eol": "lf",
    "core.symlinks": "true",
    "core.ignoreCase": "false",
    "core.precomposeUnicode": "false",
    "core.protectNTFS": "true",
    "core.protectHFS": "true",
    "core.quotepath": "false",
    "core.bigFileThreshold": "512m",
    "core.sparseCheckout": "false",
    "core.sharedRepository": "false",
    "core.pager": "cat",
    "safe.directory": "*",
    "diff.noprefix": "false",
    "diff.mnemonicPrefix": "false",
    "diff.relative": "false",
    "diff.renames": "true",
    "diff.submodule": "short",
    "diff.orderFile": "/dev/null",
    "diff.suppressBlankEmpty": "false",
    "diff.context": "3",
    "diff.interHunkContext": "0",
    "diff.ignoreSubmodules": "none",
    "color.ui": "false",
    "gc.auto": "0",
    "maintenance.auto": "false",
    "index.sparse": "false",
    "feature.manyFiles": "false",
    "user.name": "coder",
    "user.email": "coder@localhost",
    "commit.gpgsign": "false",
}
_CONFIG_ARGS = [arg for key, value in _OVERRIDES.items() for arg in ("-c", f"{key}={value}")]

_PR_SET_DUMPABLE = 4
_LIBC = ctypes.CDLL(None, use_errno=True)  # loaded here: a forked child must not load libraries


class GitError(RuntimeError):
    """A git process the server ran failed, was killed, timed out or could not start."""


@dataclass
class Pinned:
    """The $GIT_DIR files the server owns, as recorded at start, put back before each of its git operations."""

    config: bytes = b""
    exclude: str = ""


def clean_env(root: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for the server's git: nothing GIT_* inherited, no global/system config or attributes."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_") and k not in ("XDG_CONFIG_HOME", "HOME")}
    env.update({
        "GIT_DIR": str(root / ".git"),
        "GIT_WORK_TREE": str(root),
        "GIT_CEILING_DIRECTORIES": str(root.parent),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": "/dev/null",
        "GIT_ATTR_NOSYSTEM": "1",
        "GIT_NO_REPLACE_OBJECTS": "1",
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_OPTIONAL_LOCKS": "0",
        "GIT_PAGER": "cat",
        "HOME": "/nonexistent",
        "XDG_CONFIG_HOME": "/nonexistent",
        "LC_ALL": "C",
    })
    env.update(extra or {})
    return env


def run(root: Path, *args: str, env: dict[str, str] | None = None, stdin: bytes | None = None,
        check: bool = True, timeout: float = TIMEOUT) -> bytes:
    """Run the server's git in the workspace and return stdout; raise GitError saying what went wrong."""
    argv = ["git", *_CONFIG_ARGS, *args]
    what = f"git {args[0]}" if args else "git"
    try:
        proc = subprocess.run(argv, cwd=root, env=clean_env(root, env), capture_output=True, timeout=timeout,
                              input=stdin, stdin=subprocess.DEVNULL if stdin is None else None, check=False,
                              preexec_fn=_expendable)
    except subprocess.TimeoutExpired:
        raise GitError(f"{what} did not finish within {timeout:.0f} s (too many files in the workspace?)") from None
    except OSError as exc:  # ENOMEM / EAGAIN at fork, a missing git
        raise GitError(f"{what} could not start: {exc.strerror or exc}") from None
    if check and proc.returncode != 0:
        raise GitError(f"{what} {_failure(proc.returncode)}{_stderr(proc.stderr)}")
    return proc.stdout


def _expendable() -> None:
    """preexec for the server's git: first in line for the OOM killer (raising one's own score needs no privilege).

    A separated server's children (real uid != effective uid) are not dumpable, so their /proc/self files belong to
    root: this child turns dumpable for the write. That exposes nothing (ptrace and /proc/PID/fd also need every uid
    to match, and a command's uid is not the server's real one), and exec makes git non-dumpable again."""
    try:
        if os.getuid() != os.geteuid():
            _LIBC.prctl(_PR_SET_DUMPABLE, 1, 0, 0, 0)
        fd = os.open("/proc/self/oom_score_adj", os.O_WRONLY)
        try:
            os.write(fd, b"1000")
        finally:
            os.close(fd)
    except (OSError, AttributeError):
        pass


def _failure(code: int) -> str:
    sig = -code if code < 0 else 0
    if sig:
        try:
            name = signal.Signals(sig).name
        except ValueError:
            name = f"signal {sig}"
        why = {"SIGKILL": " (out of memory?)", "SIGXFSZ": " (file size limit)"}.get(name, "")
        return f"was killed by signal {sig} ({name}){why}"
    return f"failed (exit {code})"


def _stderr(raw: bytes) -> str:
    text = raw.decode("utf-8", errors="replace").strip()
    if not text:
        return ""
    lines = text.splitlines()
    if len(lines) > 4:
        lines = [*lines[:3], "...", lines[-1]]
    return ": " + "\n".join(lines)[:2000]


def pin(root: Path, pinned: Pinned) -> None:
    """Put back the $GIT_DIR files a command may have changed: config, info/attributes, info/exclude; drop links out."""
    git_dir = root / ".git"
    if git_dir.is_symlink() or not git_dir.is_dir():
        raise GitError("the workspace's .git directory was replaced or removed; no snapshot or patch can be made")
    info = git_dir / "info"
    _write(git_dir, "config", pinned.config)
    if info.is_symlink() or (info.exists() and not info.is_dir()):
        info.unlink()
    info.mkdir(exist_ok=True)
    _write(info, "attributes", NEUTRAL_ATTRIBUTES.encode())
    _write(info, "exclude", pinned.exclude.encode("utf-8", errors="surrogateescape"))
    inside = os.path.realpath(git_dir)
    for planted in ("commondir", "objects/info/alternates", "info/grafts", "shallow", "config.worktree"):
        path = git_dir / planted
        if os.path.realpath(path.parent) == inside or os.path.realpath(path.parent).startswith(inside + os.sep):
            _remove(path)  # never through a linked directory out of .git


def _write(directory: Path, name: str, data: bytes) -> None:
    """Replace directory/name with DATA without following a link a command put there."""
    target = directory / name
    try:
        if not target.is_symlink() and target.is_file() and target.read_bytes() == data:
            return
    except OSError:
        pass
    tmp = directory / f".{name}.coder-tmp"
    _remove(tmp)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)
    _remove(target)
    os.replace(tmp, target)


def _remove(path: Path) -> None:
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return
    if stat.S_ISDIR(mode):
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)
