"""Git on the user's machine, run for coder: no hooks, no fsmonitor, no signing, no filter programs, no pager.

What coder puts on the host came out of the sandbox, so git must not run programs that files in the repository (a
`.gitattributes` naming a filter, a hook) can reach. Every configured filter driver is switched off for the call
(`filter.<name>.clean/smudge/process` set empty, `required` false), hooks point at /dev/null, and fsmonitor is off.
Commands that diff must add --no-ext-diff --no-textconv themselves (no setting turns those off).
The step that changes the user's repository runs inside `held_signals()` (SIGINT/SIGTERM wait until it is over and
its outcome is recorded) and `detached` (git in its own session, so the terminal's Ctrl-C does not kill it halfway).
A private temp dir is removed by a watcher process even when coder is SIGKILLed.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["GitFailed", "HostGit", "held_signals", "private_tempdir"]

SAFE_CONFIG = {"core.hooksPath": "/dev/null", "core.fsmonitor": "false", "commit.gpgSign": "false",
               "tag.gpgSign": "false", "core.pager": "cat", "gc.auto": "0", "maintenance.auto": "false"}
# Configuration passed in the environment (`git -c` of a parent git, GIT_CONFIG_COUNT) is replaced by ours.
_ENV_CONFIG = ("GIT_CONFIG_COUNT", "GIT_CONFIG_KEY_", "GIT_CONFIG_VALUE_", "GIT_CONFIG_PARAMETERS")


def _base_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(_ENV_CONFIG)}


class GitFailed(Exception):
    """A git command exited with an error; the message is its stderr in one line."""


def _filter_drivers(repo: Path) -> list[str]:
    """Names of the filter drivers the user's configuration defines (any scope, includes followed)."""
    proc = subprocess.run(["git", "config", "-z", "--get-regexp", r"^filter\."], cwd=repo, capture_output=True,
                          env=_base_env(), stdin=subprocess.DEVNULL)
    names = []
    for entry in proc.stdout.split(b"\0"):
        key = entry.split(b"\n", 1)[0].decode("utf-8", errors="surrogateescape")
        name = key[len("filter."):key.rfind(".")] if key.count(".") >= 2 else ""
        if name and name not in names:
            names.append(name)
    return names


class HostGit:
    """Runs git in REPO with the safe configuration (as GIT_CONFIG_* variables, so odd driver names need no quoting)."""

    def __init__(self, repo: Path) -> None:
        self.repo = repo
        settings = dict(SAFE_CONFIG)
        for name in _filter_drivers(repo):
            settings.update({f"filter.{name}.clean": "", f"filter.{name}.smudge": "",
                             f"filter.{name}.process": "", f"filter.{name}.required": "false"})
        env = _base_env()
        env.update({"GIT_TERMINAL_PROMPT": "0", "GIT_LITERAL_PATHSPECS": "1", "GIT_CONFIG_COUNT": str(len(settings))})
        for n, (key, value) in enumerate(settings.items()):
            env[f"GIT_CONFIG_KEY_{n}"], env[f"GIT_CONFIG_VALUE_{n}"] = key, value
        self.env = env
        self.keep_fds: tuple[int, ...] = ()  # passed to every git process (see private_tempdir)

    def run(self, *args: str, input: bytes | None = None, env: dict[str, str] | None = None,
            detached: bool = False) -> str:
        """Git's stdout (decoded with surrogateescape); raises GitFailed with its stderr. DETACHED runs git in its
        own session, out of reach of the terminal's Ctrl-C (for the step that changes the repository)."""
        proc = self.run_raw(*args, input=input, env=env, detached=detached)
        if proc.returncode != 0:
            text = proc.stderr.decode("utf-8", errors="replace").strip()
            raise GitFailed(" ".join(text.split())[:500] or f"git {args[0]} exited with {proc.returncode}")
        return proc.stdout.decode("utf-8", errors="surrogateescape")

    def run_raw(self, *args: str, input: bytes | None = None, env: dict[str, str] | None = None,
                detached: bool = False) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(["git", *args], cwd=self.repo, env={**self.env, **(env or {})}, input=input,
                              capture_output=True, pass_fds=self.keep_fds, start_new_session=detached,
                              stdin=None if input is not None else subprocess.DEVNULL)


@contextmanager
def held_signals() -> Iterator[None]:
    """SIGINT and SIGTERM wait until the block is over, then take effect as they would have (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    pending: list[int] = []
    saved = {sig: signal.signal(sig, lambda signum, frame: pending.append(signum))
             for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)
        for signum in dict.fromkeys(pending):
            signal.raise_signal(signum)


_WATCHER = """import os, shutil, sys, tempfile
path = tempfile.mkdtemp(prefix=sys.argv[1], dir=sys.argv[2] or None)
try:
    os.write(1, os.fsencode(path) + b"\\n")
except OSError:
    pass  # coder is gone already
os.close(1)
sys.stdin.buffer.read()
shutil.rmtree(path, ignore_errors=True)
"""


@contextmanager
def private_tempdir(prefix: str, git: HostGit) -> Iterator[Path]:
    """A temp dir made and removed by a watcher process: it removes the dir once coder and every git process GIT
    starts meanwhile are gone (they hold the watcher's stdin open), so even a SIGKILL leaves nothing behind."""
    import tempfile

    watcher = subprocess.Popen([sys.executable, "-I", "-S", "-c", _WATCHER, prefix, tempfile.gettempdir()],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                               start_new_session=True)
    assert watcher.stdin is not None and watcher.stdout is not None
    try:
        path = Path(os.fsdecode(watcher.stdout.readline().rstrip(b"\n")))
        if not path.name.startswith(prefix):
            raise OSError("could not make a temporary directory")
        git.keep_fds = (watcher.stdin.fileno(),)
        yield path
    finally:
        git.keep_fds = ()
        watcher.stdin.close()
        watcher.stdout.close()
        try:
            watcher.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
