"""The cost of undo: the per-step workspace snapshot (and a restore) against a warm tool call, in the same run.

Every agent step starts with a snapshot of the workspace (tracked and untracked-not-ignored files) so that `undo` can
put back what the shell changed too. This measures, on repos of growing size and on each sandbox kind:
  - baseline: one warm `view_file` round trip through the tool server;
  - snapshot after a one-file edit (the usual step), as a ratio of the baseline;
  - restore of the previous snapshot.
Usage: python bench/step_snapshots.py [--files 100 1000 5000] [--rounds 20] [--docker]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
for entry in (ROOT / "tools", ROOT):
    if str(entry) not in sys.path:
        sys.path.insert(0, str(entry))

from coder.sandboxes.local import LocalSandbox  # noqa: E402
from coder_tools.base import WorkspaceOptions  # noqa: E402


def make_repo(root: Path, files: int) -> Path:
    """A committed repo of FILES Python files of ~2 KB in nested packages."""
    root.mkdir(parents=True)
    body = "".join(f"def function_{i}(x):\n    return x * {i}\n\n" for i in range(60))
    for n in range(files):
        path = root / f"pkg{n % 20}" / f"sub{n % 7}" / f"module_{n}.py"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(body)
    env = {"GIT_AUTHOR_NAME": "b", "GIT_AUTHOR_EMAIL": "b@b", "GIT_COMMITTER_NAME": "b", "GIT_COMMITTER_EMAIL": "b@b",
           "PATH": "/usr/bin:/bin"}
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "start"]):
        subprocess.run(["git", *args], cwd=root, env=env, check=True)
    return root


def timed(fn: Callable[[], Any], rounds: int) -> list[float]:
    out = []
    for _ in range(rounds):
        began = time.perf_counter()
        fn()
        out.append((time.perf_counter() - began) * 1000)
    return out


def measure(sandbox: Any, repo: Path, rounds: int) -> dict[str, float]:
    with sandbox.open(repo, WorkspaceOptions()) as session:
        session.snapshot()  # the first one reads every file (the start of a run)
        target = "pkg0/sub0/module_0.py"
        view = timed(lambda: session.call("view_file", {"path": target, "end_line": 20}), rounds)
        counter = iter(range(10**6))

        def edit_then_snapshot() -> None:
            n = next(counter)
            result = session.call("edit_file", {"path": target, "command": "insert", "line": 1, "new": f"# {n}\n"})
            assert result.ok, result.output

        snaps, restores = [], []
        for _ in range(rounds):  # the usual step: one file edited, then the next step's snapshot
            edit_then_snapshot()
            began = time.perf_counter()
            tree = session.snapshot()
            snaps.append((time.perf_counter() - began) * 1000)
        for _ in range(rounds):  # undo of a one-file step
            edit_then_snapshot()
            began = time.perf_counter()
            session.restore(tree)
            restores.append((time.perf_counter() - began) * 1000)
    return {"view": statistics.median(view), "snapshot": statistics.median(snaps),
            "restore": statistics.median(restores)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, nargs="+", default=[100, 1000, 5000])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--docker", action="store_true", help="also measure the Docker sandbox (image must be built)")
    args = parser.parse_args()
    sandboxes: list[tuple[str, Any]] = [("local", LocalSandbox())]
    if args.docker:
        from coder.sandboxes.docker import DockerSandbox

        sandboxes.append(("docker", DockerSandbox()))
    print(f"{'sandbox':8} {'files':>6} {'view_file p50':>14} {'snapshot p50':>13} {'ratio':>7} {'restore p50':>12} {'ratio':>7}")
    with tempfile.TemporaryDirectory(prefix="coder-bench-") as tmp:
        for files in args.files:
            repo = make_repo(Path(tmp) / f"repo{files}", files)
            for name, sandbox in sandboxes:
                r = measure(sandbox, repo, args.rounds)
                print(f"{name:8} {files:6d} {r['view']:12.2f}ms {r['snapshot']:11.2f}ms {r['snapshot'] / r['view']:6.1f}x "
                      f"{r['restore']:10.2f}ms {r['restore'] / r['view']:6.1f}x", flush=True)


if __name__ == "__main__":
    main()
