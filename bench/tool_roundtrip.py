"""Tool round-trip latency through the warm tool server, against a fresh tool-server process per call (same run)."""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
for entry in (ROOT / "tools", ROOT):  # run from a checkout even without `pip install -e .`
    if str(entry) not in sys.path:
        sys.path.insert(0, str(entry))

from coder.sandboxes.local import LocalSandbox, sandbox_env  # noqa: E402
from coder.sandboxes.repo_copy import copy_repo  # noqa: E402
from coder_tools.base import WorkspaceOptions  # noqa: E402
from coder_tools.registry import all_tools  # noqa: E402

SMALL_FILE = "small.py"
SMALL_TEXT = "".join(f"def f{i}(x):\n    return x + {i}\n\n\n" for i in range(10))
WARMUP = 20


def make_repo(parent: Path) -> Path:
    """A small committed git repo with one short Python file."""
    repo = parent / "repo"
    repo.mkdir()
    (repo / SMALL_FILE).write_text(SMALL_TEXT)
    (repo / "README.md").write_text("bench repo\n")
    identity = ["-c", "user.name=bench", "-c", "user.email=bench@localhost", "-c", "commit.gpgsign=false"]
    for args in (["init", "-q"], ["add", "-A"], [*identity, "commit", "-qm", "init"]):
        subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)
    return repo


def pick_tool() -> tuple[str, dict[str, Any]]:
    """view_file on the small file when that tool exists, else update_plan."""
    tools = all_tools()
    if "view_file" in tools:
        return "view_file", {"path": SMALL_FILE}
    return "update_plan", {"steps": ["look", "fix", "test"]}


def bench_warm(repo: Path, tool: str, arguments: dict[str, Any], calls: int) -> tuple[list[float], float]:
    """Per-call seconds of CALLS round trips through one warm LocalSandbox session, and the session start time."""
    started = time.perf_counter()
    with LocalSandbox().open(repo, WorkspaceOptions()) as session:
        startup = time.perf_counter() - started
        for _ in range(WARMUP):
            session.call(tool, arguments)
        times = []
        for _ in range(calls):
            t0 = time.perf_counter()
            result = session.call(tool, arguments)
            times.append(time.perf_counter() - t0)
            if not result.ok:
                raise SystemExit(f"{tool} failed: {result.output}")
    return times, startup


def fresh_call(workdir: Path, env: dict[str, str], tool: str, arguments: dict[str, Any]) -> list[float]:
    """Seconds for one cold round trip (start the server, initialize, one call, shutdown, exit), then its phases."""
    requests = [
        {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"root": str(workdir), "options": {}}},
        {"jsonrpc": "2.0", "id": 2, "method": "call", "params": {"name": tool, "arguments": arguments}},
        {"jsonrpc": "2.0", "id": 3, "method": "shutdown", "params": {}},
    ]
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-P", "-m", "coder_tools.server"], cwd=workdir, env=env,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdin is not None and proc.stdout is not None
    responses = []
    marks = [t0]
    for request in requests:  # one request at a time, as a client would
        proc.stdin.write((json.dumps(request) + "\n").encode())
        proc.stdin.flush()
        responses.append(json.loads(proc.stdout.readline()))
        marks.append(time.perf_counter())
    proc.stdin.close()
    proc.wait()
    marks.append(time.perf_counter())
    elapsed = marks[-1] - t0
    proc.stdout.close()
    assert proc.stderr is not None
    proc.stderr.close()
    if "result" not in responses[1] or not responses[1]["result"]["ok"]:
        raise SystemExit(f"fresh call failed: {responses}")
    return [elapsed, marks[1] - marks[0], marks[2] - marks[1], marks[4] - marks[2]]


def bench_fresh(repo: Path, scratch: Path, tool: str, arguments: dict[str, Any], calls: int) -> list[list[float]]:
    """Per call [total, start+initialize, call, shutdown+exit] seconds with a fresh tool-server process per call."""
    workdir = scratch / "fresh-workspace"
    copy_repo(repo, workdir)
    home = scratch / "fresh-home"
    (home / "tmp").mkdir(parents=True)
    env = sandbox_env(home)
    fresh_call(workdir, env, tool, arguments)  # warm the OS file cache; not counted
    return [fresh_call(workdir, env, tool, arguments) for _ in range(calls)]


def pct(values: list[float], q: int) -> float:
    """The q-th percentile in milliseconds."""
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] * 1000


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=1000, help="warm calls (default 1000)")
    parser.add_argument("--fresh-calls", type=int, default=100,
                        help="fresh-process calls for the baseline (default 100: each costs a process start)")
    args = parser.parse_args(argv)
    if args.calls < 2 or args.fresh_calls < 2:
        parser.error("need at least 2 calls of each kind for percentiles")
    tool, arguments = pick_tool()
    scratch = Path(tempfile.mkdtemp(prefix="coder-bench-"))
    try:
        repo = make_repo(scratch)
        warm, startup = bench_warm(repo, tool, arguments, args.calls)
        fresh_runs = bench_fresh(repo, scratch, tool, arguments, args.fresh_calls)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

    fresh = [run[0] for run in fresh_runs]
    print(f"tool: {tool} {json.dumps(arguments)}   python {sys.version.split()[0]}   "
          f"LocalSandbox start: {startup * 1000:.0f} ms (copy + server + initialize)")
    header = f"{'mode':<44} {'calls':>6} {'p50 ms':>9} {'p95 ms':>9} {'mean ms':>9}"
    print(header)
    print("-" * len(header))
    rows = [("warm server (LocalSandbox session.call)", warm),
            ("fresh process per call (init+call+shutdown)", fresh)]
    for label, values in rows:
        print(f"{label:<44} {len(values):>6} {pct(values, 50):>9.3f} {pct(values, 95):>9.3f} "
              f"{statistics.fmean(values) * 1000:>9.3f}")
    print("-" * len(header))
    print(f"{'ratio fresh/warm':<44} {'':>6} {pct(fresh, 50) / pct(warm, 50):>8.0f}x {pct(fresh, 95) / pct(warm, 95):>8.0f}x "
          f"{statistics.fmean(fresh) / statistics.fmean(warm):>8.0f}x")
    phases = [pct([run[i] for run in fresh_runs], 50) for i in (1, 2, 3)]
    print(f"fresh p50 by phase: start+initialize {phases[0]:.1f} ms (interpreter, imports, git init/commit), "
          f"call {phases[1]:.2f} ms, shutdown+exit {phases[2]:.1f} ms")


if __name__ == "__main__":
    main()
