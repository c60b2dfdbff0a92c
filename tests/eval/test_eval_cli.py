"""`coder eval` on the command line: one-line usage errors (exit 2), a full run, and Ctrl-C of the real process
talking to a scripted OpenAI-compatible server (exit 130, finished runs kept, no sandbox left)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from coder.cli import main
from conftest import CSV, PAGINATOR, TASKS_DIR, solution_bodies
from fake_openai_server import FakeOpenAIServer, Scripted


def one_line_error(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    return err


def test_invalid_task_yaml_exits_2_with_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "tasks" / "broken"
    (bad / "repo").mkdir(parents=True)
    (bad / "task.yaml").write_text("id: broken\nlanguage: python\nisue: typo\nfail_to_pass: [a::b]\n")
    assert main(["eval", str(tmp_path / "tasks"), "--out", str(tmp_path / "out")]) == 2
    assert one_line_error(capsys) == (f"coder: error: {bad / 'task.yaml'}: unknown key 'isue'; "
                                     "missing required key 'issue'")


@pytest.mark.parametrize("argv, message", [
    (["--tasks", "no-such-task"], "no task matches 'no-such-task'"),
    (["--no-coder"], "--no-coder needs at least one --compare harness"),
    (["--workers", "0"], None),
])
def test_usage_errors_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str],
                             message: str | None) -> None:
    try:
        code = main(["eval", str(TASKS_DIR), "--out", str(tmp_path / "out"), *argv])
    except SystemExit as exc:  # argparse's own type errors
        code = int(exc.code or 0)
    assert code == 2
    err = capsys.readouterr().err
    if message:
        assert message in err and len(err.strip().splitlines()) == 1


def test_optional_harness_missing_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    import coder.eval.mini_swe as mini_swe

    monkeypatch.setattr(mini_swe, "available", lambda: False)
    assert main(["eval", str(TASKS_DIR), "--compare", "mini-swe-agent", "--out", str(tmp_path)]) == 2
    assert "pip install 'coder-agent[compare]'" in one_line_error(capsys)


def test_gold_run_writes_every_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    argv = ["eval", str(TASKS_DIR), "--no-coder", "--compare", "gold", "--sandbox", "local", "--tasks",
            f"{PAGINATOR},csv-*", "--out", str(out)]
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert "| gold/reference | 2/2 | 100% |" in captured.out
    assert (out / "summary.md").is_file() and (out / "predictions" / "gold_reference.jsonl").is_file()
    assert len((out / "results.jsonl").read_text().splitlines()) == 2
    assert main(argv) == 0  # resumed: nothing left to do, the same table
    assert "2 run(s) already finished" in capsys.readouterr().err


@pytest.mark.slow
def test_ctrl_c_keeps_finished_runs_and_leaves_no_sandbox(tmp_path: Path) -> None:
    out, tmp = tmp_path / "out", tmp_path / "tmp"
    tmp.mkdir()
    with FakeOpenAIServer(models=["fake"]) as server:
        server.queue += solution_bodies(CSV) + [Scripted("slow", delay=120)]
        env = {**os.environ, "TMPDIR": str(tmp), "COLUMNS": "200"}
        cmd = [sys.executable, "-m", "coder.cli", "eval", str(TASKS_DIR), "--tasks", f"{CSV},{PAGINATOR}",
               "--base-url", server.base_url, "--model", "fake", "--sandbox", "local", "--out", str(out)]
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            deadline = time.monotonic() + 90
            while len(server.requests) <= len(solution_bodies(CSV)):  # the second task is waiting on the model
                assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
                time.sleep(0.1)
            assert any(p.name.startswith("coder-sandbox-") for p in tmp.iterdir())
            interrupted_at = time.monotonic()
            proc.send_signal(signal.SIGINT)
            stdout, stderr = proc.communicate(timeout=60)
            stopping = time.monotonic() - interrupted_at
        finally:
            if proc.poll() is None:
                proc.kill()
    assert proc.returncode == 130, stderr
    assert stopping < 10, f"Ctrl-C took {stopping:.1f}s to take effect"
    assert "interrupted: removed 1 sandbox(es)" in stderr
    records = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert [(r["task"], r["resolved"], r["prompt_tokens"]) for r in records] == [(CSV, True, 50 * 6)]
    assert "| coder/fake | 1/2 (1 not run) |" in stdout
    assert not [p for p in tmp.iterdir() if p.name.startswith("coder-sandbox-")]
