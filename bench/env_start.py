"""Environment start-up: `coder fix` start to the baseline test result on a fresh repository, cold and warm, against
running the same tests directly on the host.

The fixture is a small Python repository made in a temp dir: one real dependency (attrs, imported by the code) and
pytest tests, declared in requirements.txt. Measured in one run:

- direct: the test command run on the host in a venv that has the dependencies (the baseline; median of --reps);
- cold: what `coder fix` does before its first model call, with the library functions: detect_environment,
  ensure_env_image (a build: the requirements file carries a line unique to this run, so no cache can answer),
  DockerSandbox.open on the image and the baseline run_tests;
- warm: the same again, the image now cached (median of --reps).

Printed: absolute times, each phase, and the ratios to direct from the same run; the warm overhead (warm - direct)
against the 2 s target (PASS/FAIL, exit 1 on FAIL). Needs Docker, the sandbox image (`coder sandbox build`) and
network to the package index for the build and the host venv. The image built for the cold run is removed at the end.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
for entry in (ROOT / "tools", ROOT):  # run from a checkout even without `pip install -e .`
    if str(entry) not in sys.path:
        sys.path.insert(0, str(entry))

from coder.config import load_config  # noqa: E402
from coder.envs import detect_environment, ensure_env_image  # noqa: E402
from coder.factories import built_sandbox_image  # noqa: E402
from coder.sandboxes.docker import DockerLimits, DockerSandbox, docker_client  # noqa: E402
from coder_tools.base import WorkspaceOptions  # noqa: E402

WARM_OVERHEAD_TARGET_S = 2.0
DEPENDENCY = "attrs==23.2.0"
FILES = {
    "shapes.py": ("import attrs\n\n\n@attrs.define\nclass Box:\n    width: int\n    height: int\n\n"
                  "    def area(self) -> int:\n        return self.width * self.height\n"),
    "tests/test_shapes.py": ("from shapes import Box\n\n\n"
                             + "".join(f"def test_area_{i}():\n    assert Box({i}, 2).area() == {2 * i}\n\n\n"
                                       for i in range(20))),
    "pytest.ini": "[pytest]\npythonpath = .\n",
}


def make_repo(parent: Path, nonce: str) -> Path:
    """The fixture repository, committed; NONCE makes its requirements file (and so its environment) new."""
    repo = parent / "repo"
    for rel, text in {**FILES, "requirements.txt": f"# bench run {nonce}\n{DEPENDENCY}\npytest\n"}.items():
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text(text)
    identity = ["-c", "user.name=bench", "-c", "user.email=bench@localhost", "-c", "commit.gpgsign=false",
                "-c", "core.hooksPath=/dev/null"]
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "init"]):
        subprocess.run(["git", *identity, *args], cwd=repo, check=True, capture_output=True)
    return repo


def host_venv(parent: Path, repo: Path) -> Path:
    """A host venv with the fixture's requirements (made once, not timed); returns its python."""
    venv = parent / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    proc = subprocess.run([str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", "-r",
                           str(repo / "requirements.txt")], capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"could not make the host venv:\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}")
    return python


def direct(python: Path, repo: Path) -> float:
    """The tests run directly on the host: seconds (they must report 20 passed)."""
    began = time.perf_counter()
    proc = subprocess.run([str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd=repo,
                          capture_output=True, text=True, env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
    took = time.perf_counter() - began
    if "20 passed" not in proc.stdout:
        raise SystemExit(f"the direct test run failed:\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}")
    return took


def coder_path(repo: Path, client: Any, progress: Callable[[str], None]) -> tuple[float, dict[str, float], Any]:
    """What `coder fix` does before the first model call: (total seconds, phases, EnvImage)."""
    phases: dict[str, float] = {}
    began = mark = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal mark
        now = time.perf_counter()
        phases[name], mark = now - mark, now

    config = load_config(repo)
    spec = detect_environment(repo, config.sandbox.setup)
    base = built_sandbox_image(client, config.sandbox)
    lap("detect")
    image = ensure_env_image(client, repo, spec, base, progress)
    lap("image")
    cfg = config.sandbox
    limits = DockerLimits(memory=cfg.memory, cpus=cfg.cpus, pids=cfg.pids, workspace_size=cfg.workspace_size)
    sandbox = DockerSandbox(image=image.tag, limits=limits, client=client, env=image.env)  # type: ignore[call-arg]
    options = WorkspaceOptions(test_command=config.tests.command, bash_timeout=cfg.bash_timeout,
                               output_cap=cfg.output_cap)
    with sandbox.open(repo, options) as session:
        lap("open")
        result = session.call("run_tests", {})
        lap("run_tests")
    total = sum(phases.values())
    phases["close"] = time.perf_counter() - began - total
    if not result.ok or result.data.get("passed") != 20:
        raise SystemExit(f"the baseline in the sandbox did not pass 20 tests: {result.output[-2000:]}")
    return total, phases, image


def show(label: str, seconds: float, base: float, phases: dict[str, float] | None = None) -> None:
    detail = "  ".join(f"{k} {v:.2f}s" for k, v in (phases or {}).items())
    print(f"{label:28} {seconds:8.2f} s {seconds / base:8.1f}x   {detail}", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=5, help="repetitions of the direct and warm runs (median)")
    parser.add_argument("--keep-image", action="store_true", help="leave the image the cold run built")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    client = docker_client()
    built: list[str] = []
    quiet = lambda line: None  # noqa: E731
    with tempfile.TemporaryDirectory(prefix="coder-bench-env-") as tmp:
        try:
            repo = make_repo(Path(tmp), uuid.uuid4().hex)
            python = host_venv(Path(tmp), repo)
            direct(python, repo)  # warm the host's page cache and pytest's imports, like the runs after it
            base = statistics.median(direct(python, repo) for _ in range(args.reps))
            cold, cold_phases, image = coder_path(repo, client, quiet)
            built.append(image.tag)
            if not image.built:
                raise SystemExit(f"the cold run found {image.tag} cached; the fixture was meant to be new")
            warm_runs = [coder_path(repo, client, quiet) for _ in range(args.reps)]
            if any(run[2].built for run in warm_runs):
                raise SystemExit("a warm run built the image again: the cache missed")
            warm = statistics.median(run[0] for run in warm_runs)
            warm_phases = {k: statistics.median(run[1][k] for run in warm_runs) for k in warm_runs[0][1]}
            print(f"{'':28} {'time':>10} {'vs direct':>9}")
            show("direct (host venv, pytest)", base, base)
            show("coder cold (image built)", cold, base, cold_phases)
            show("coder warm (image cached)", warm, base, warm_phases)
            overhead = warm - base
            ok = overhead <= WARM_OVERHEAD_TARGET_S
            print(f"warm overhead {overhead:.2f} s (target <= {WARM_OVERHEAD_TARGET_S:.0f} s): "
                  f"{'PASS' if ok else 'FAIL'}", flush=True)
            return 0 if ok else 1
        finally:
            if not args.keep_image:
                for tag in built:
                    try:
                        client.images.remove(tag, force=True)
                    except Exception as exc:  # already gone, or in use by another run: say so, leave it
                        print(f"could not remove {tag}: {exc}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
