"""The `coder` command end to end: a real subprocess, a real git repo and a scripted OpenAI-compatible server."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "models"))

from fake_openai_server import FakeOpenAIServer, completion, native_call, text_stream  # noqa: E402
from repo_helpers import git, tree_snapshot, worktree_snapshot  # noqa: E402

EDIT = {"path": "calc.py", "command": "replace", "old": "return a - b", "new": "return a + b"}


@pytest.fixture
def server() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer() as fake:
        yield fake


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """An environment whose cache and temp dirs live in tmp_path (so leftovers can be checked)."""
    (tmp_path / "tmp").mkdir()
    (tmp_path / "home").mkdir()
    keep = {k: v for k, v in os.environ.items() if not k.startswith("CODER_")}
    return {**keep, "HOME": str(tmp_path / "home"), "XDG_CACHE_HOME": str(tmp_path / "cache"),
            "TMPDIR": str(tmp_path / "tmp"), "CODER_SANDBOX__KIND": "local"}


def coder(*args: str, cwd: Path, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "coder.cli", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout, stdin=subprocess.DEVNULL)


def script_fix(server: FakeOpenAIServer) -> None:
    server.reply(completion("Plan:\n1. Fix add\n2. Submit", tool_calls=[native_call("c1", "edit_file", EDIT)],
                            usage={"prompt_tokens": 900, "completion_tokens": 40}))
    server.reply(completion("", tool_calls=[native_call("c2", "submit", {"summary": "add adds"})],
                            usage={"prompt_tokens": 1000, "completion_tokens": 10}))


def test_fix_yes_applies_patch(buggy_repo: Path, server: FakeOpenAIServer, env: dict[str, str]) -> None:
    script_fix(server)
    proc = coder("fix", "add() subtracts", "--yes", "--no-stream", "--base-url", server.base_url, cwd=buggy_repo, env=env)
    assert proc.returncode == 0, proc.stderr
    assert "return a + b" in (buggy_repo / "calc.py").read_text()
    assert "resolved" in proc.stderr and "Fix add" in proc.stderr
    trajectories = list((Path(env["XDG_CACHE_HOME"]) / "coder" / "trajectories").glob("*.jsonl"))
    assert len(trajectories) == 1
    replay = coder("replay", str(trajectories[0]), cwd=buggy_repo, env=env)
    assert replay.returncode == 0 and "resolved" in replay.stdout and "edit_file" in replay.stdout


def test_fix_streams_and_prints_json_events(buggy_repo: Path, server: FakeOpenAIServer, env: dict[str, str]) -> None:
    before = tree_snapshot(buggy_repo)
    call = '<tool_call>\n{"name": "edit_file", "arguments": ' + json.dumps(EDIT) + "}\n</tool_call>"
    server.stream(text_stream(["1. Fix add\n", call[:30], call[30:]]))
    server.stream(text_stream(['<tool_call>{"name": "submit", "arguments": {}}</tool_call>']))
    proc = coder("fix", "add() subtracts", "--json", "--base-url", server.base_url, cwd=buggy_repo, env=env)
    assert proc.returncode == 0, proc.stderr
    events = [json.loads(line) for line in proc.stdout.splitlines()]
    types = [e["type"] for e in events]
    assert types[0] == "run_started" and types[-1] == "run_finished" and "text_streamed" in types
    assert events[-1]["status"] == "resolved" and events[-1]["fail_to_pass"] == ["tests/test_calc.py::test_add"]
    assert tree_snapshot(buggy_repo) == before  # --json without --yes applies nothing


def test_fix_branch_commits_without_touching_the_tree(buggy_repo: Path, server: FakeOpenAIServer, env: dict[str, str]) -> None:
    (buggy_repo / "notes.txt").write_text("uncommitted work\n")
    (buggy_repo / "calc.py").write_text((buggy_repo / "calc.py").read_text() + "# local edit\n")
    before = worktree_snapshot(buggy_repo)
    script_fix(server)
    proc = coder("fix", "add() subtracts", "--branch", "coder/fix-add", "--no-stream", "--base-url", server.base_url,
                 cwd=buggy_repo, env=env)
    assert proc.returncode == 0, proc.stderr
    assert worktree_snapshot(buggy_repo) == before
    assert git(buggy_repo, "branch", "--show-current").strip() == "main"
    assert "return a + b" in git(buggy_repo, "show", "coder/fix-add:calc.py")


def test_dirty_tree_is_refused_with_yes(buggy_repo: Path, server: FakeOpenAIServer, env: dict[str, str]) -> None:
    (buggy_repo / "calc.py").write_text("# my work\n")
    before = tree_snapshot(buggy_repo)
    proc = coder("fix", "x", "--yes", "--base-url", server.base_url, cwd=buggy_repo, env=env)
    assert proc.returncode == 2 and "uncommitted changes" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert tree_snapshot(buggy_repo) == before


@pytest.mark.parametrize(
    ("args", "setup", "message"),
    [
        (["fix", "x", "--issue-file", "issue.md"], None, "not both"),
        (["fix", "--issue-file", "missing.md"], None, "cannot read issue file"),
        (["fix", "   "], None, "issue text is empty"),
        (["fix", "x"], ".coder.toml", "unknown setting 'modle'"),
        (["fix", "x", "--stash"], None, "--stash only makes sense with --yes"),
        (["replay", "nope.jsonl"], None, "no such trajectory file"),
        (["replay", "calc.py"], None, "not a coder trajectory"),
        (["fix", "x", "--approval", "risky"], None, "needs a terminal to ask on"),
    ],
)
def test_usage_errors_exit_2_with_one_line(buggy_repo: Path, env: dict[str, str], args: list[str], setup: str | None,
                                           message: str) -> None:
    if setup == ".coder.toml":
        (buggy_repo / ".coder.toml").write_text('[modle]\nname = "x"\n')
    before = tree_snapshot(buggy_repo)
    proc = coder(*args, cwd=buggy_repo, env={**env, "CODER_MODEL__BASE_URL": "http://127.0.0.1:9/v1"})
    assert proc.returncode == 2, proc.stderr
    assert message in proc.stderr and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert tree_snapshot(buggy_repo) == before


def test_not_a_git_repo(tmp_path: Path, env: dict[str, str]) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    proc = coder("fix", "x", cwd=plain, env=env)
    assert proc.returncode == 2 and "not the top of a git repository" in proc.stderr


def test_endpoint_down(buggy_repo: Path, env: dict[str, str]) -> None:
    proc = coder("fix", "x", "--base-url", "http://127.0.0.1:9/v1", cwd=buggy_repo, env=env)
    assert proc.returncode == 2 and "127.0.0.1:9" in proc.stderr, proc.stderr


@pytest.mark.parametrize("failure", ["garbage", "slow", "500"])
def test_endpoint_misbehaving_mid_run(buggy_repo: Path, server: FakeOpenAIServer, env: dict[str, str], failure: str) -> None:
    if failure == "garbage":
        server.garbage()
    elif failure == "slow":
        server.slow(5)
    else:
        server.error(500)
    before = tree_snapshot(buggy_repo)
    proc = coder("fix", "x", "--no-stream", "--base-url", server.base_url, cwd=buggy_repo,
                 env={**env, "CODER_MODEL__TIMEOUT": "1", "CODER_MODEL__MAX_RETRIES": "0"})
    assert proc.returncode == 2, proc.stderr
    assert "model error" in proc.stderr
    assert tree_snapshot(buggy_repo) == before


def test_ctrl_c_mid_run(buggy_repo: Path, server: FakeOpenAIServer, env: dict[str, str], tmp_path: Path) -> None:
    server.slow(60)
    before = tree_snapshot(buggy_repo)
    proc = subprocess.Popen([sys.executable, "-m", "coder.cli", "fix", "x", "--base-url", server.base_url],
                            cwd=buggy_repo, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not server.requests and time.monotonic() < deadline:
        time.sleep(0.1)
    assert server.requests, "the model was never called"
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 130, stderr
    assert "interrupted" in stderr
    assert tree_snapshot(buggy_repo) == before
    assert list((tmp_path / "tmp").iterdir()) == []  # the sandbox copy was removed


def test_no_command_prints_help(tmp_path: Path, env: dict[str, str]) -> None:
    proc = coder(cwd=tmp_path, env=env)
    assert proc.returncode == 2 and "fix" in proc.stderr


def test_json_usage_error_still_one_line(buggy_repo: Path, env: dict[str, Any]) -> None:
    proc = coder("fix", "x", "--max-steps", "0", "--base-url", "http://127.0.0.1:9/v1", cwd=buggy_repo, env=env)
    assert proc.returncode == 2 and "max_steps" in proc.stderr


# ---------------------------------------------------------------- the Docker sandbox through the CLI

@pytest.mark.docker
def test_fix_in_docker_applies_and_leaves_no_container(buggy_repo: Path, server: FakeOpenAIServer, env: dict[str, str],
                                                       docker_images: dict[str, str]) -> None:
    from repo_helpers import sandbox_leftovers

    script_fix(server)
    docker_env = {**env, "CODER_SANDBOX__KIND": "docker", "CODER_SANDBOX__IMAGE": docker_images["toolchain"]}
    proc = coder("fix", "add() subtracts", "--yes", "--no-stream", "--base-url", server.base_url, cwd=buggy_repo,
                 env=docker_env)
    assert proc.returncode == 0, proc.stderr
    assert "sandbox=docker" in proc.stderr and "warning" not in proc.stderr
    assert "return a + b" in (buggy_repo / "calc.py").read_text()
    assert sandbox_leftovers("docker") == []


@pytest.mark.docker
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_ctrl_c_in_docker_leaves_no_container(buggy_repo: Path, server: FakeOpenAIServer, env: dict[str, str],
                                              docker_images: dict[str, str], signum: int) -> None:
    from repo_helpers import sandbox_leftovers

    server.slow(60)
    before = tree_snapshot(buggy_repo)
    docker_env = {**env, "CODER_SANDBOX__KIND": "docker", "CODER_SANDBOX__IMAGE": docker_images["toolchain"]}
    proc = subprocess.Popen([sys.executable, "-m", "coder.cli", "fix", "x", "--base-url", server.base_url],
                            cwd=buggy_repo, env=docker_env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not server.requests and time.monotonic() < deadline:
        time.sleep(0.1)
    assert server.requests and sandbox_leftovers("docker", owners=(proc.pid,)), "the run never reached the model inside a container"
    proc.send_signal(signum)
    _, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 130, stderr
    assert sandbox_leftovers("docker") == []
    assert tree_snapshot(buggy_repo) == before


@pytest.mark.docker
def test_missing_image_falls_back_under_auto_and_fails_under_docker(buggy_repo: Path, server: FakeOpenAIServer,
                                                                     env: dict[str, str], docker_images: dict[str, str]) -> None:
    missing = {**env, "CODER_SANDBOX__IMAGE": "coder-sandbox:not-built"}
    proc = coder("fix", "x", "--sandbox", "docker", "--base-url", server.base_url, cwd=buggy_repo, env=missing)
    assert proc.returncode == 2 and "coder sandbox build" in proc.stderr
    script_fix(server)
    proc = coder("fix", "add() subtracts", "--sandbox", "auto", "--no-stream", "--base-url", server.base_url,
                 cwd=buggy_repo, env=missing)
    assert proc.returncode == 0, proc.stderr
    assert "falling back to the local sandbox" in proc.stderr and "sandbox=local" in proc.stderr


def test_no_engine_falls_back_under_auto_and_fails_under_docker(buggy_repo: Path, server: FakeOpenAIServer,
                                                                  env: dict[str, str], tmp_path: Path) -> None:
    no_engine = {**env, "DOCKER_HOST": f"unix://{tmp_path}/no-such.sock"}
    proc = coder("fix", "x", "--sandbox", "docker", "--base-url", server.base_url, cwd=buggy_repo, env=no_engine)
    assert proc.returncode == 2 and "no Docker engine is reachable" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    script_fix(server)
    proc = coder("fix", "add() subtracts", "--sandbox", "auto", "--no-stream", "--base-url", server.base_url,
                 cwd=buggy_repo, env=no_engine)
    assert proc.returncode == 0, proc.stderr
    assert "warning" in proc.stderr and "falling back to the local sandbox" in proc.stderr


@pytest.mark.docker
def test_sandbox_prune_removes_labelled_containers(tmp_path: Path, env: dict[str, str],
                                                    docker_images: dict[str, str]) -> None:
    from coder.sandboxes.docker import docker_client
    from coder.sandboxes.docker_image import LABEL
    from repo_helpers import sandbox_leftovers

    docker_client().containers.create(docker_images["plain"], command=["sleep", "60"], labels={LABEL: "1"})
    assert sandbox_leftovers("docker")
    proc = coder("sandbox", "prune", cwd=tmp_path, env=env)
    assert proc.returncode == 0 and "removed 1 " in proc.stderr
    assert sandbox_leftovers("docker") == []


@pytest.mark.docker
def test_sandbox_prune_keeps_the_sandboxes_of_runs_still_going(tmp_path: Path, env: dict[str, str],
                                                                docker_images: dict[str, str]) -> None:
    """Pruning beside a running `coder eval` once removed its sandboxes mid-run: only a gone owner's are leftovers."""
    from coder.sandboxes.docker import docker_client
    from coder.sandboxes.docker_image import LABEL
    from coder.sandboxes.owner import PID, owner_labels

    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    client = docker_client()
    live = client.containers.create(docker_images["plain"], command=["sleep", "60"], labels={LABEL: "1", **owner_labels()})
    dead = client.containers.create(docker_images["plain"], command=["sleep", "60"],
                                    labels={LABEL: "1", **owner_labels(), PID: gone.stdout.strip()})
    try:
        proc = coder("sandbox", "prune", cwd=tmp_path, env=env)
        assert proc.returncode == 0, proc.stderr
        names = {c.name for c in client.containers.list(all=True, filters={"label": LABEL})}
        assert live.name in names and dead.name not in names
        assert "kept 1 in use by coder runs still going (--all removes them too)" in proc.stderr
        proc = coder("sandbox", "prune", "--all", cwd=tmp_path, env=env)
        assert proc.returncode == 0 and live.name not in {c.name for c in client.containers.list(all=True)}
    finally:
        for container in (live, dead):
            try:
                container.remove(force=True)
            except Exception:
                pass


def test_sandbox_commands_without_engine_exit_2(tmp_path: Path, env: dict[str, str]) -> None:
    no_engine = {**env, "DOCKER_HOST": f"unix://{tmp_path}/no-such.sock"}
    for args in (["sandbox", "prune"], ["sandbox", "build"]):
        proc = coder(*args, cwd=tmp_path, env=no_engine)
        assert proc.returncode == 2 and "no Docker engine is reachable" in proc.stderr, proc.stderr


def test_tests_that_cannot_run_exit_2_with_one_line_and_no_model_call(make_repo: Any, server: FakeOpenAIServer,
                                                                      env: dict[str, str]) -> None:
    """A repository whose dependency cannot be installed: the message names it, and the model is never asked."""
    repo = make_repo({"calc.py": "import notinstalledpkg_zz\n\n\ndef add(a, b):\n    return a - b\n",
                      "tests/test_calc.py": "from calc import add\n\n\ndef test_add():\n    assert add(2, 3) == 5\n"})
    before = tree_snapshot(repo)
    script_fix(server)  # replies are there; none may be asked for
    proc = coder("fix", "add() subtracts", "--yes", "--no-stream", "--base-url", server.base_url, cwd=repo, env=env)
    assert proc.returncode == 2, proc.stderr
    errors = [line for line in proc.stderr.splitlines() if "error" in line]
    assert len(errors) == 1 and errors[0].startswith("coder: error: the tests cannot run here: "), proc.stderr
    assert errors[0].endswith("(agent.baseline_tests = false skips this check)")  # one line, not wrapped
    assert "notinstalledpkg_zz" in errors[0] and "sandbox.setup" in errors[0], proc.stderr
    assert "local sandbox: tests run with" in proc.stderr  # which interpreter, said before the run
    assert "Traceback" not in proc.stderr
    assert server.requests == []  # zero model calls
    assert tree_snapshot(repo) == before


def test_tests_that_cannot_run_are_found_before_the_model_is_started(make_repo: Any, env: dict[str, str]) -> None:
    """The check runs before the model is built: with no endpoint at all the message is still the tests' one."""
    repo = make_repo({"README.md": "no tests here\n"})
    proc = coder("fix", "x", "--json", "--base-url", "http://127.0.0.1:9/v1", cwd=repo, env=env)
    assert proc.returncode == 2, proc.stderr
    assert proc.stdout == ""  # like every usage error: nothing ran, no events
    assert proc.stderr.strip().splitlines()[-1].startswith("coder: error: the tests cannot run here: no test runner")
    assert "tests.command" in proc.stderr and "127.0.0.1:9" not in proc.stderr


@pytest.mark.parametrize("strategy", ["auto", "tools", "guided"])
def test_strategy_flag_reaches_the_configuration(tmp_path: Path, strategy: str) -> None:
    """`coder fix --strategy` and `coder tui --strategy` set agent.strategy; without the flag the configuration's
    value stands."""
    from coder import cli
    from coder.config import load_config
    from coder.tui import launch

    fix = cli._parser().parse_args(["fix", "x", "--strategy", strategy])
    assert load_config(tmp_path, cli._flags(fix), environ={}).agent.strategy == strategy
    tui = cli._parser().parse_args(["tui", "--strategy", strategy])
    flags = launch.config_flags(tui, cli._model_overrides(tui))
    assert load_config(tmp_path, flags, environ={}).agent.strategy == strategy
    (tmp_path / ".coder.toml").write_text(f'[agent]\nstrategy = "{strategy}"\n')
    unset = cli._parser().parse_args(["fix", "x"])
    assert load_config(tmp_path, cli._flags(unset), environ={}).agent.strategy == strategy


def test_an_unknown_strategy_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    from coder import cli

    with pytest.raises(SystemExit) as raised:
        cli._parser().parse_args(["fix", "x", "--strategy", "agentless"])
    assert raised.value.code == 2 and "invalid choice: 'agentless'" in capsys.readouterr().err
