"""DockerSandbox costs, each against a baseline measured in the same run.

1. Start-up: `coder fix` start to the first tool call, --sandbox docker against --sandbox local (end to end, a
   subprocess against a scripted fake model), and in process DockerSandbox.open + one call against LocalSandbox,
   with Docker's phases. Target: at most 1 s of sandbox overhead.
2. Tool round trip inside Docker: view_file through the warm tool server against one `docker exec` per call (a bare
   `cat`, and a fresh tool server started for one call). Target: warm p50 <= 5 ms.

The sandbox image must be built (`coder sandbox build`). The bench runs it under a private tag (coder-bench-sandbox:PID,
the same image) so that at the end, also after Ctrl-C, it removes exactly the containers it started and no one else's.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
for entry in (ROOT / "tools", ROOT, ROOT / "tests" / "models"):  # run from a checkout even without `pip install -e .`
    if str(entry) not in sys.path:
        sys.path.insert(0, str(entry))

from coder.sandboxes.docker import CONTAINER_ENV, TOOLS_PATH, TOOLS_PYTHON, DockerSandbox, docker_client  # noqa: E402
from coder.sandboxes.docker_image import LABEL, image_tag  # noqa: E402
from coder.sandboxes.local import LocalSandbox  # noqa: E402
from coder_tools.base import WorkspaceOptions  # noqa: E402
from fake_openai_server import FakeOpenAIServer, completion, native_call  # noqa: E402

SMALL_FILE = "small.py"
SMALL_TEXT = "".join(f"def f{i}(x):\n    return x + {i}\n\n\n" for i in range(10))
VIEW = ("view_file", {"path": SMALL_FILE})
WARMUP = 20
STARTUP_TARGET_S = 1.0
WARM_P50_TARGET_MS = 5.0
BENCH_REPO = "coder-bench-sandbox"


# ----------------------------------------------------------------------------------------------------- helpers

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


def pct(values: list[float], q: int) -> float:
    """The q-th percentile in milliseconds."""
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] * 1000


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


class Bench:
    """Owns what the run creates (private image tag, containers, subprocesses) and removes it in cleanup()."""

    def __init__(self) -> None:
        self.client = docker_client()
        self.source_image = image_tag()
        self.tag = f"{BENCH_REPO}:{os.getpid()}"
        self.procs: list[subprocess.Popen[bytes]] = []
        self.sessions: list[Any] = []
        try:
            image = self.client.images.get(self.source_image)
        except Exception:
            raise SystemExit(f"the sandbox image {self.source_image} is not built: run `coder sandbox build` "
                             "(offline: `coder sandbox build --base coder-base:bookworm`)") from None
        image.tag(BENCH_REPO, str(os.getpid()))

    def ours(self) -> list[Any]:
        """Labelled containers created from this run's private tag (ours alone, even with others running)."""
        found = []
        for container in self.client.containers.list(all=True, filters={"label": LABEL}):
            name = container.attrs.get("Image") or container.attrs.get("Config", {}).get("Image")
            if name == self.tag:
                found.append(container)
        return found

    def cleanup(self) -> int:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)  # lets `coder fix` remove its own container
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        for session in self.sessions:
            try:
                session.close()
            except Exception:
                pass
        removed = 0
        for container in self.ours():
            try:
                container.remove(force=True)
                removed += 1
            except Exception:
                pass
        try:
            self.client.images.remove(self.tag, noprune=True)  # only the tag: the image itself stays
        except Exception:
            pass
        return removed


# ------------------------------------------------------------------------------------ 1a: end to end (coder fix)

def fix_env(scratch: Path, tag: str) -> dict[str, str]:
    home = scratch / "home"
    home.mkdir(exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("CODER_")}
    env.update({"HOME": str(home), "XDG_CACHE_HOME": str(home / ".cache"), "XDG_CONFIG_HOME": str(home / ".config"),
                "CODER_AGENT__BASELINE_TESTS": "false", "CODER_SANDBOX__IMAGE": tag})
    return env


def fix_once(bench: Bench, server: FakeOpenAIServer, repo: Path, env: dict[str, str], kind: str,
             scratch: Path) -> tuple[float, float, float]:
    """(run_started, first tool_started, exit) seconds after process start for one `coder fix --json`."""
    with server.lock:
        server.queue.clear()
    server.reply(completion("", tool_calls=[native_call("c1", *VIEW)]))
    server.reply(completion("", tool_calls=[native_call("c2", "submit", {"summary": "bench"})]))
    cmd = [sys.executable, "-m", "coder.cli", "fix", "x", "--json", "--no-stream", "--sandbox", kind,
           "--base-url", server.base_url, "--repo", str(repo)]
    with open(scratch / "fix-stderr.log", "w+b") as stderr:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=repo, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=stderr)
        bench.procs.append(proc)
        assert proc.stdout is not None
        started = first_tool = None
        for line in proc.stdout:
            now = time.perf_counter() - t0
            kind_of = json.loads(line).get("type") if line.startswith(b"{") else None
            if kind_of == "run_started" and started is None:
                started = now
            elif kind_of == "tool_started" and first_tool is None:
                first_tool = now
        code = proc.wait()
        total = time.perf_counter() - t0
        bench.procs.remove(proc)
        stderr.seek(0)
        log = stderr.read().decode(errors="replace")
    if code not in (0, 1) or started is None or first_tool is None:
        raise SystemExit(f"`coder fix --sandbox {kind}` failed (exit {code}):\n{log[-2000:]}")
    return started, first_tool, total


def bench_fix(bench: Bench, repo: Path, scratch: Path, reps: int) -> dict[str, list[tuple[float, float, float]]]:
    env = fix_env(scratch, bench.tag)
    runs: dict[str, list[tuple[float, float, float]]] = {"local": [], "docker": []}
    with FakeOpenAIServer() as server:
        for kind in runs:  # warm the page cache and __pycache__; not counted
            fix_once(bench, server, repo, env, kind, scratch)
        for _ in range(reps):  # interleaved so drift hits both alike
            for kind in runs:
                runs[kind].append(fix_once(bench, server, repo, env, kind, scratch))
    return runs


# ------------------------------------------------------------------------------- 1b: in process, with phases

PHASES = ["client ping + image lookup", "repo tar", "container create", "attach", "start", "copy-in", "initialize",
          "first call"]


@contextmanager
def phase_probes(marks: dict[str, float]) -> Iterator[None]:
    """Time DockerSession's steps by wrapping the library calls it makes (best effort: a step it stops making
    shows as n/a, and the total is measured directly anyway)."""
    import docker.api.client
    import docker.models.containers

    import coder.sandboxes.docker as sandbox_docker
    from coder.sandboxes.rpc import JsonRpcClient

    def wrap(owner: Any, attr: str, label: str, only: Callable[..., bool] = lambda *a, **k: True) -> tuple[Any, str, Any]:
        original = getattr(owner, attr)

        def timed(*args: Any, **kwargs: Any) -> Any:
            if not only(*args, **kwargs):
                return original(*args, **kwargs)
            t0 = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                marks[label] = marks.get(label, 0.0) + time.perf_counter() - t0
        setattr(owner, attr, timed)
        return owner, attr, original

    patched = []
    for owner, attr, label, *only in (
        (sandbox_docker, "repo_tar", "repo tar"),
        (docker.models.containers.ContainerCollection, "create", "container create"),
        (docker.api.client.APIClient, "attach_socket", "attach"),
        (docker.models.containers.Container, "start", "start"),
        (sandbox_docker.DockerSession, "_copy_in", "copy-in"),
        (JsonRpcClient, "request", "initialize", lambda self, method, *a, **k: method == "initialize"),
    ):
        if hasattr(owner, attr):
            patched.append(wrap(owner, attr, label, *only))
    try:
        yield
    finally:
        for owner, attr, original in reversed(patched):
            setattr(owner, attr, original)


def open_docker_once(bench: Bench, repo: Path) -> tuple[float, dict[str, float], float]:
    """(seconds to the first answered call, phases, close seconds) for client + DockerSandbox.open + one call."""
    marks: dict[str, float] = {}
    with phase_probes(marks):
        t0 = time.perf_counter()
        client = docker_client()
        client.images.get(bench.tag)
        marks["client ping + image lookup"] = time.perf_counter() - t0
        session = DockerSandbox(image=bench.tag, client=client).open(repo, WorkspaceOptions())
        bench.sessions.append(session)
        t1 = time.perf_counter()
        result = session.call(*VIEW)
        marks["first call"] = time.perf_counter() - t1
        total = time.perf_counter() - t0
    if not result.ok:
        raise SystemExit(f"view_file failed in Docker: {result.output}")
    t2 = time.perf_counter()
    session.close()
    bench.sessions.remove(session)
    return total, marks, time.perf_counter() - t2


def open_local_once(repo: Path) -> tuple[float, float]:
    t0 = time.perf_counter()
    session = LocalSandbox().open(repo, WorkspaceOptions())
    try:
        result = session.call(*VIEW)
        total = time.perf_counter() - t0
    finally:
        t1 = time.perf_counter()
        session.close()
    if not result.ok:
        raise SystemExit(f"view_file failed locally: {result.output}")
    return total, time.perf_counter() - t1


def bench_open(bench: Bench, repo: Path, reps: int) -> tuple[list[tuple[float, dict[str, float], float]],
                                                            list[tuple[float, float]]]:
    open_docker_once(bench, repo)
    open_local_once(repo)  # warm-up, not counted
    docker_runs, local_runs = [], []
    for _ in range(reps):
        docker_runs.append(open_docker_once(bench, repo))
        local_runs.append(open_local_once(repo))
    return docker_runs, local_runs


# ----------------------------------------------------------------------------------- 2: round trip in Docker

def exec_with_stdin(client: Any, container_id: str, cmd: list[str], data: bytes, workdir: str) -> bytes:
    """One `docker exec` fed DATA on stdin; its stdout once it exits (stdout/stderr demultiplexed by hand)."""
    api = client.api
    exec_id = api.exec_create(container_id, cmd, stdin=True, stdout=True, stderr=True, user="1000:1000",
                              workdir=workdir, environment=CONTAINER_ENV)["Id"]
    attached = api.exec_start(exec_id, socket=True)
    sock = getattr(attached, "_sock", attached)
    raw = b""
    try:
        sock.sendall(data)
        sock.shutdown(socket.SHUT_WR)
        while chunk := sock.recv(65536):
            raw += chunk
    finally:
        sock.close()
    out = b""
    while len(raw) >= 8:
        size = int.from_bytes(raw[4:8], "big")
        if raw[0] == 1:
            out += raw[8:8 + size]
        raw = raw[8 + size:]
    return out


def bench_roundtrip(bench: Bench, repo: Path, calls: int, cat_calls: int, fresh_calls: int) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {}
    with LocalSandbox().open(repo, WorkspaceOptions()) as local:  # reference: the same tool server on the host
        for _ in range(WARMUP):
            local.call(*VIEW)
        times["local"] = []
        for _ in range(calls):
            t0 = time.perf_counter()
            local.call(*VIEW)
            times["local"].append(time.perf_counter() - t0)

    session = DockerSandbox(image=bench.tag, client=bench.client).open(repo, WorkspaceOptions())
    bench.sessions.append(session)
    container = session.container
    for _ in range(WARMUP):
        session.call(*VIEW)
    times["warm"] = []
    for _ in range(calls):
        t0 = time.perf_counter()
        result = session.call(*VIEW)
        times["warm"].append(time.perf_counter() - t0)
        if not result.ok:
            raise SystemExit(f"view_file failed in Docker: {result.output}")

    times["cat"] = []
    for i in range(cat_calls + 3):  # 3 warm-up execs
        t0 = time.perf_counter()
        res = container.exec_run(["cat", SMALL_FILE], user="1000:1000", workdir="/workspace")
        elapsed = time.perf_counter() - t0
        if res.exit_code != 0 or res.output.decode() != SMALL_TEXT:
            raise SystemExit(f"docker exec cat failed: {res.exit_code} {res.output[:200]!r}")
        if i >= 3:
            times["cat"].append(elapsed)

    # A fresh tool server per call, on its own copy (its initialize makes the workspace a git repo, as the warm one did).
    copy = container.exec_run(["sh", "-c", "mkdir -p /tmp/fresh && tar -C /workspace --exclude=.git -cf - . | "
                               "tar -C /tmp/fresh -xf -"], user="1000:1000")
    if copy.exit_code != 0:
        raise SystemExit(f"could not copy the workspace in the container: {copy.output[-500:]!r}")
    cmd = ["env", f"PYTHONPATH={TOOLS_PATH}", TOOLS_PYTHON, "-P", "-m", "coder_tools.server"]
    requests = b"".join(json.dumps(r).encode() + b"\n" for r in (
        {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"root": "/tmp/fresh", "options": {}}},
        {"jsonrpc": "2.0", "id": 2, "method": "call", "params": {"name": VIEW[0], "arguments": VIEW[1]}},
        {"jsonrpc": "2.0", "id": 3, "method": "shutdown", "params": {}},
    ))
    times["fresh"] = []
    for i in range(fresh_calls + 1):  # 1 warm-up
        t0 = time.perf_counter()
        out = exec_with_stdin(bench.client, container.id, cmd, requests, "/tmp/fresh")
        elapsed = time.perf_counter() - t0
        responses = [json.loads(line) for line in out.splitlines() if line.strip()]
        if len(responses) < 2 or not responses[1].get("result", {}).get("ok"):
            raise SystemExit(f"fresh tool server in Docker failed: {out[-1000:]!r}")
        if i >= 1:
            times["fresh"].append(elapsed)
    session.close()
    bench.sessions.remove(session)
    return times


# ------------------------------------------------------------------------------------------------------ report

def report_fix(runs: dict[str, list[tuple[float, float, float]]]) -> float:
    print(f"\n1a. `coder fix` start -> first tool_started (subprocess, fake model, image cached), "
          f"median of {len(runs['docker'])}")
    header = f"{'sandbox':<10} {'run_started':>12} {'first tool':>11} {'min':>8} {'max':>8} {'exit':>8}"
    print(header)
    print("-" * len(header))
    med: dict[str, list[float]] = {}
    for kind in ("local", "docker"):
        cols = [statistics.median(r[i] for r in runs[kind]) for i in range(3)]
        firsts = [r[1] for r in runs[kind]]
        med[kind] = cols
        print(f"{kind:<10} {ms(cols[0]):>12} {ms(cols[1]):>11} {ms(min(firsts)):>8} {ms(max(firsts)):>8} "
              f"{ms(cols[2]):>8}")
    print("-" * len(header))
    extra = med["docker"][1] - med["local"][1]
    before = med["docker"][0] - med["local"][0]
    print(f"{'docker-local':<10} {ms(before):>12} {ms(extra):>11} {'':>8} {'':>8} {ms(med['docker'][2] - med['local'][2]):>8}"
          f"   ratio {med['docker'][1] / med['local'][1]:.2f}x")
    print(f"Docker's extra time to the first tool call: {ms(extra)} "
          f"({ms(before)} before run_started: docker import, ping, image lookup; "
          f"{ms(extra - before)} opening the sandbox)  target <= {ms(STARTUP_TARGET_S)}: {verdict(extra <= STARTUP_TARGET_S)}")
    return extra


def report_open(docker_runs: list[tuple[float, dict[str, float], float]], local_runs: list[tuple[float, float]],
                import_s: float) -> float:
    print(f"\n1b. in process: open + first answered view_file, median of {len(docker_runs)}"
          f"  (`import docker` once per process: {ms(import_s)}, not included)")
    d_total = statistics.median(r[0] for r in docker_runs)
    l_total = statistics.median(r[0] for r in local_runs)
    for label in PHASES:
        values = [r[1][label] for r in docker_runs if label in r[1]]
        shown = f"{statistics.median(values) * 1000:7.1f} ms" if len(values) == len(docker_runs) else "    n/a"
        print(f"  docker  {label:<28} {shown}")
    other = statistics.median(r[0] - sum(r[1].values()) for r in docker_runs)
    print(f"  docker  {'other (python side)':<28} {other * 1000:7.1f} ms")
    print(f"  docker  {'total':<28} {d_total * 1000:7.1f} ms   (close: {ms(statistics.median(r[2] for r in docker_runs))})")
    print(f"  local   {'total':<28} {l_total * 1000:7.1f} ms   (close: {ms(statistics.median(r[1] for r in local_runs))})")
    extra = d_total - l_total
    print(f"  docker-local {ms(extra)} (ratio {d_total / l_total:.2f}x)  "
          f"target <= {ms(STARTUP_TARGET_S)}: {verdict(extra <= STARTUP_TARGET_S)}")
    return extra


def report_roundtrip(times: dict[str, list[float]]) -> float:
    print(f"\n2. tool round trip ({VIEW[0]} {json.dumps(VIEW[1])}) in one DockerSandbox container")
    header = f"{'mode':<46} {'calls':>6} {'p50 ms':>9} {'p95 ms':>9} {'mean ms':>9} {'p50 x warm':>11}"
    print(header)
    print("-" * len(header))
    warm50 = pct(times["warm"], 50)
    rows = [("warm tool server (DockerSession.call)", "warm"),
            ("docker exec cat (cheapest exec)", "cat"),
            ("docker exec fresh tool server (init+call+exit)", "fresh"),
            ("reference: warm tool server, LocalSandbox", "local")]
    for label, key in rows:
        values = times[key]
        print(f"{label:<46} {len(values):>6} {pct(values, 50):>9.3f} {pct(values, 95):>9.3f} "
              f"{statistics.fmean(values) * 1000:>9.3f} {pct(values, 50) / warm50:>10.1f}x")
    print("-" * len(header))
    print(f"exec/warm: cat p50 {pct(times['cat'], 50) / warm50:.0f}x p95 {pct(times['cat'], 95) / pct(times['warm'], 95):.0f}x;"
          f" fresh server p50 {pct(times['fresh'], 50) / warm50:.0f}x p95 "
          f"{pct(times['fresh'], 95) / pct(times['warm'], 95):.0f}x")
    print(f"warm p50 {warm50:.3f} ms  target <= {WARM_P50_TARGET_MS:g} ms: {verdict(warm50 <= WARM_P50_TARGET_MS)}")
    return warm50


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=1000, help="warm calls in Docker (default 1000)")
    parser.add_argument("--reps", type=int, default=5, help="start-up repetitions per sandbox (default 5)")
    parser.add_argument("--exec-calls", type=int, default=100, help="`docker exec cat` samples (default 100)")
    parser.add_argument("--fresh-calls", type=int, default=50, help="fresh-tool-server exec samples (default 50)")
    parser.add_argument("--skip-fix", action="store_true", help="skip the end-to-end `coder fix` runs")
    args = parser.parse_args(argv)
    if min(args.calls, args.exec_calls, args.fresh_calls) < 2 or args.reps < 1:
        parser.error("need at least 2 calls of each kind and 1 repetition")

    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, interrupt)

    t0 = time.perf_counter()
    import docker  # noqa: F401  (once per process: part of `coder fix` start, not of later opens)
    import_s = time.perf_counter() - t0
    bench = Bench()
    scratch = Path(tempfile.mkdtemp(prefix="coder-bench-"))
    failed = False
    try:
        repo = make_repo(scratch)
        info = bench.client.version()
        print(f"image {bench.source_image} (as {bench.tag})   docker {info.get('Version')}   "
              f"python {sys.version.split()[0]}   {os.cpu_count()} CPUs")
        fix_runs = None if args.skip_fix else bench_fix(bench, repo, scratch, args.reps)
        docker_runs, local_runs = bench_open(bench, repo, args.reps)
        times = bench_roundtrip(bench, repo, args.calls, args.exec_calls, args.fresh_calls)
        results = []
        if fix_runs is not None:
            results.append(report_fix(fix_runs) <= STARTUP_TARGET_S)
        results.append(report_open(docker_runs, local_runs, import_s) <= STARTUP_TARGET_S)
        results.append(report_roundtrip(times) <= WARM_P50_TARGET_MS)
        failed = not all(results)
    except KeyboardInterrupt:
        print("\ninterrupted; cleaning up", file=sys.stderr)
        failed = True
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut the cleanup short
        removed = bench.cleanup()
        shutil.rmtree(scratch, ignore_errors=True)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        if removed:
            print(f"removed {removed} leftover container(s)", file=sys.stderr)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
