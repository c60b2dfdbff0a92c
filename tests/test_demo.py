"""The README's first command, as written there, with a scripted model: `coder demo` fixes a copy of the example."""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "models"))

from coder import demo  # noqa: E402
from fake_openai_server import FakeOpenAIServer, completion, native_call  # noqa: E402
from repo_helpers import git, tree_snapshot  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "calculator"
BUG = '    """The sum of A and B."""\n    return a - b'
FIX = '    """The sum of A and B."""\n    return a + b'


def readme_first_command() -> str:
    """The first line of the first code block under '## Install and run' in README.md."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Install and run\n", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```[a-z]*\n(.*?)```", section, re.DOTALL)
    assert block, "no code block under '## Install and run'"
    return block.group(1).strip().splitlines()[0]


def demo_part(command: str) -> str:
    """The README command without its install step (the test runs in the installed checkout already)."""
    install, _, rest = command.partition(" && ")
    assert install.startswith("pip install -e "), command
    assert rest.startswith("coder demo"), command
    return rest


@pytest.fixture
def server() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer() as fake:
        yield fake


@pytest.fixture
def env(tmp_path: Path, server: FakeOpenAIServer) -> dict[str, str]:
    """The scripted endpoint through the environment (the README command takes no flags); the venv's `coder` first."""
    for name in ("tmp", "home"):
        (tmp_path / name).mkdir()
    keep = {k: v for k, v in os.environ.items() if not k.startswith("CODER_")}
    return {**keep, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{keep.get('PATH', '')}",
            "HOME": str(tmp_path / "home"), "XDG_CACHE_HOME": str(tmp_path / "cache"), "TMPDIR": str(tmp_path / "tmp"),
            "CODER_MODEL__BASE_URL": server.base_url, "CODER_MODEL__PROVIDER": "openai_compat",
            "CODER_SANDBOX__KIND": "local", "CODER_AGENT__STREAM": "false"}


def script_fix(server: FakeOpenAIServer) -> None:
    edit = {"path": "calculator.py", "command": "replace", "old": BUG, "new": FIX}
    server.reply(completion("Plan:\n1. Fix add() in calculator.py\n2. Submit",
                            tool_calls=[native_call("c1", "edit_file", edit)]))
    server.reply(completion("", tool_calls=[native_call("c2", "submit", {"summary": "add() returns the sum"})]))


def test_the_example_has_one_failing_test() -> None:
    assert BUG in (EXAMPLE / "calculator.py").read_text()
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"], cwd=EXAMPLE,
                          capture_output=True, text=True, env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
    assert proc.returncode == 1 and "1 failed, 4 passed" in proc.stdout, proc.stdout
    assert "test_add" in proc.stdout
    assert (EXAMPLE / "ISSUE.md").read_text().strip()


@pytest.mark.parametrize("kind", ["local", pytest.param("docker", marks=pytest.mark.docker)])
def test_readme_first_command_runs_the_demo_to_the_patch(server: FakeOpenAIServer, env: dict[str, str],
                                                         tmp_path: Path, kind: str,
                                                         request: pytest.FixtureRequest) -> None:
    """In the local sandbox, and in Docker on the example's environment image (built on first use, as the README's
    command does on a machine with Docker)."""
    if kind == "docker":
        env = {**env, "CODER_SANDBOX__KIND": "docker",
               "CODER_SANDBOX__IMAGE": request.getfixturevalue("docker_images")["plain"]}
    script_fix(server)
    before = tree_snapshot(ROOT / "examples")
    head = git(ROOT, "rev-parse", "HEAD")
    proc = subprocess.run(["bash", "-c", demo_part(readme_first_command())], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=600, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stderr[-3000:]
    err = proc.stderr
    assert "coder fix" in err and "resolved" in err and f"sandbox={kind}" in err
    assert "+    return a + b" in err and "-    return a - b" in err  # the patch is shown
    assert err.rstrip().splitlines()[-1].startswith("coder demo: on your own repository")
    copies = list((tmp_path / "tmp").glob("coder-demo-*/calculator"))
    assert len(copies) == 1
    assert FIX in (copies[0] / "calculator.py").read_text()  # the demo's copy got the fix (--yes)
    assert git(copies[0], "log", "--format=%an <%ae>").strip() == "coder demo <demo@coder.invalid>"
    assert tree_snapshot(ROOT / "examples") == before and git(ROOT, "rev-parse", "HEAD") == head
    assert not (Path(env["HOME"]) / ".gitconfig").exists()


def test_demo_passes_its_flags_to_fix_and_refuses_a_used_directory(tmp_path: Path) -> None:
    parser = argparse.ArgumentParser()
    demo.add_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["demo", "--max-steps", "3", "--sandbox", "local", "--base-url", "http://x/v1",
                              "--strategy", "guided"])
    assert args.command == "demo"
    argv = demo.fix_argv(args, tmp_path, "the issue")
    assert argv[:5] == ["fix", "the issue", "--repo", str(tmp_path), "--yes"]
    assert argv[5:] == ["--base-url", "http://x/v1", "--sandbox", "local", "--max-steps", "3", "--strategy", "guided"]
    from coder import cli
    from coder.config import load_config

    fix = cli._parser().parse_args(argv)  # the demo's argv is one `coder fix` accepts, strategy included
    assert load_config(tmp_path, cli._flags(fix), environ={}).agent.strategy == "guided"
    assert "--strategy" not in demo.fix_argv(parser.parse_args(["demo"]), tmp_path, "the issue")
    (tmp_path / "used").mkdir()
    (tmp_path / "used" / "file").write_text("x")
    from coder.errors import UsageError

    with pytest.raises(UsageError, match="not an empty directory"):
        demo.make_copy(tmp_path / "used")
    with pytest.raises(UsageError, match="not an empty directory"):
        demo.make_copy(tmp_path / "used" / "file")
    copy = demo.make_copy(tmp_path / "fresh")
    assert git(copy, "status", "--porcelain") == ""
    assert {p.name for p in copy.iterdir()} >= {"calculator.py", "tests", "ISSUE.md", ".git"}
    assert not list(copy.rglob("__pycache__"))
