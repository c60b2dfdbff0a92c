"""`coder fix` and `coder replay` with bytes that are not UTF-8, and with a sandbox that prints escape sequences.

The real CLI, the real agent loop and a real sandbox, driven by a scripted model: a change to a Latin-1 file and to a
file named with byte 0xff must finish normally, replay, and apply the exact bytes; nothing from the sandbox may reach
the terminal as a raw control character."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from coder import cli, factories
from coder.sandboxes.base import Sandbox
from coder.testing import ScriptedModel, call, reply
from repo_helpers import git

LATIN1 = b"caf\xe9 = 1\n"
ODD_NAME = b"data\xff.txt"
# printf in bash: \351 is 0xe9 (Latin-1 e-acute), \377 is 0xff.
EDIT_BYTES = (r"printf 'caf\351 = 2\nna\357ve = 1\n' > latin.py && printf 'new\377 line\n' > $'data\377.txt' && "
              r"printf 'x\377\n' > $'made\377.txt'")
ESC_LINE = "import os; os.system('touch pwned')"
HIDE = "\x1b[2K\r"  # erase the line and go back to its start: the terminal shows nothing of what came before
EDIT_ESC = ("printf '%s\\033[2K\\r# harmless\\n' \"" + ESC_LINE + "\" >> mod.py && "
            "printf '\\033]0;owned\\007 \\033[31mred\\n'")


def bytes_repo(make_repo: Callable[..., Path]) -> Path:
    repo = make_repo({"latin.py": LATIN1, "README.md": "hello\n"})
    (repo / ODD_NAME.decode("utf-8", "surrogateescape")).write_bytes(b"old\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "bytes")
    return repo


@pytest.fixture
def run_cli(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, sandbox: Sandbox,
            capsys: pytest.CaptureFixture[str]) -> Callable[..., tuple[int, str, str, ScriptedModel]]:
    """`coder ARGS` in-process, a scripted model on the test's sandbox; returns (exit, stdout, stderr, model)."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    for name in [k for k in __import__("os").environ if k.startswith("CODER_")]:
        monkeypatch.delenv(name)

    def run(args: list[str], steps: list[Any]) -> tuple[int, str, str, ScriptedModel]:
        model = ScriptedModel(steps)
        monkeypatch.setattr(factories, "build_model", lambda *a, **k: model)
        monkeypatch.setattr(factories, "choose_sandbox", lambda *a, **k: (sandbox, None))
        code = cli.main(args)
        out, err = capsys.readouterr()
        return code, out, err, model

    return run


def trajectory(tmp_path: Path) -> Path:
    (path,) = (tmp_path / "cache" / "coder" / "trajectories").glob("*.jsonl")
    return path


def test_non_utf8_change_finishes_replays_and_applies_exact_bytes(
        make_repo: Callable[..., Path], run_cli: Callable[..., Any], tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    repo = bytes_repo(make_repo)
    steps = [reply("Plan:\n1. Edit the bytes", call("bash", command=EDIT_BYTES)),
             reply("", call("view_file", path="latin.py")),
             reply("", call("submit", summary="caf\udce9 changed"))]
    code, out, err, model = run_cli(["fix", "change the bytes", "--repo", str(repo), "--yes", "--no-stream",
                                     "--test-command", "true"], steps)
    model.assert_consumed()
    assert code in (0, 1), err
    assert "Traceback" not in err
    # the display shows the undecodable bytes as \xNN, never as raw bytes or replacement characters
    assert "\\xe9" in err and "data\\xff.txt" in err and "made\\xff.txt" in err
    # applied on the host: the exact bytes
    assert (repo / "latin.py").read_bytes() == b"caf\xe9 = 2\nna\xefve = 1\n"
    assert (repo / ODD_NAME.decode("utf-8", "surrogateescape")).read_bytes() == b"new\xff line\n"
    assert (repo / "made\udcff.txt").read_bytes() == b"x\xff\n"
    # the trajectory is valid UTF-8 JSON and holds the bytes losslessly
    path = trajectory(tmp_path)
    text = path.read_bytes().decode("utf-8")
    records = [json.loads(line) for line in text.splitlines()]
    final = records[-1]["event"]
    assert final["type"] == "run_finished" and "caf\udce9 = 2" in final["patch"]
    # the saved patch holds the original bytes
    saved = path.with_suffix(".patch").read_bytes()
    assert b"+caf\xe9 = 2" in saved and b"data\xff.txt" in saved
    # and `coder replay` renders it, showing the bytes as escapes
    assert cli.main(["replay", str(path)]) == 0
    shown, _ = capsys.readouterr()
    assert "+caf\\xe9 = 2" in shown and "data\\xff.txt" in shown and "\udce9" not in shown
    assert cli.main(["replay", "--json", str(path)]) == 0
    lines, _ = capsys.readouterr()
    events = [json.loads(line) for line in lines.splitlines()]
    assert events[-1]["patch"] == final["patch"]


def test_surrogates_in_a_model_path_argument_do_not_crash(
        make_repo: Callable[..., Path], run_cli: Callable[..., Any], tmp_path: Path) -> None:
    repo = make_repo({"README.md": "hello\n"})
    steps = ['<tool_call>{"name": "view_file", "arguments": {"path": "data\\udcff.txt"}}</tool_call>',
             '<tool_call>{"name": "view_file", "arguments": {"path": "x\\ud800.py"}}</tool_call>',
             reply("", call("submit", summary="nothing"))]
    args = ["fix", "look", "--repo", str(repo), "--no-stream", "--test-command", "true"]
    code, out, err, model = run_cli(args, steps)
    model.assert_consumed()
    assert code in (0, 1), err
    assert "Traceback" not in err
    assert "data\\xff.txt" in err, err  # shown as the byte; the run went on to the next call
    text = trajectory(tmp_path).read_bytes().decode("utf-8")
    assert all(json.loads(line) for line in text.splitlines())
    assert "x\\ud800.py" in text


def test_escape_sequences_from_the_sandbox_are_shown_not_obeyed(
        make_repo: Callable[..., Path], run_cli: Callable[..., Any], tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    repo = make_repo({"mod.py": "x = 1\n"})
    steps = [reply("Plan:\n1. \x1b[8mhidden\x1b[0m step", call("bash", command=EDIT_ESC)),
             reply("", call("submit", summary="done"))]
    code, out, err, model = run_cli(["fix", "add a line", "--repo", str(repo), "--no-stream", "--test-command", "true"],
                                    steps)
    model.assert_consumed()
    assert code in (0, 1), err
    assert not re.search("[\x00-\x08\x0b-\x1f\x7f]", err), repr(err)  # no raw control character at all
    assert f"+{ESC_LINE}\\x1b[2K\\r# harmless" in err  # the hidden line is in plain sight
    assert "\\x1b[8mhidden" in err, err
    assert cli.main(["replay", str(trajectory(tmp_path))]) == 0
    shown, _ = capsys.readouterr()
    assert not re.search("[\x00-\x08\x0b-\x1f\x7f]", shown), repr(shown)
    assert f"+{ESC_LINE}\\x1b[2K\\r# harmless" in shown


def test_error_message_from_the_model_is_shown_literally(
        make_repo: Callable[..., Path], run_cli: Callable[..., Any]) -> None:
    """The error line after a failed run printed the message as markup, raw ESC included."""
    from coder.models.base import ModelError

    def broken(messages: Any) -> Any:
        raise ModelError("endpoint said \x1b[2K\r[/] [bold]x\u202e :x:")

    repo = make_repo({"README.md": "hello\n"})
    code, out, err, model = run_cli(["fix", "x", "--repo", str(repo), "--no-stream", "--test-command", "true"],
                                    [broken])
    assert code == 2, err
    assert not re.search("[\x00-\x08\x0b-\x1f\x7f\u202e]", err), repr(err)
    assert err.count("endpoint said \\x1b[2K\\r[/] [bold]x\\u202e :x:") == 2, err  # the run's last line and error:


def test_usage_error_lines_show_control_characters(monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    """`coder: error: ...` carries git's stderr, which names files from the patch."""
    from coder.apply import ApplyError

    def fail(args: Any) -> int:
        raise ApplyError("git apply failed: a/evil\x1b[2K\r.py: patch does not apply")

    monkeypatch.setattr(cli, "cmd_fix", fail)
    assert cli.main(["fix", "x"]) == 2
    err = capsys.readouterr().err
    assert err == "coder: error: git apply failed: a/evil\\x1b[2K\\r.py: patch does not apply\n"


def test_approval_prompt_shows_arguments_literally(monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    from rich.console import Console

    from coder.events import ApprovalRequested

    buffer = io.StringIO()
    console = Console(file=buffer, width=300, color_system=None, highlight=False)
    monkeypatch.setattr("builtins.input", lambda prompt="": "n")
    request = ApprovalRequested(step=1, call_id="c", name="bash\x1b[2K", arguments={"command": "rm -rf /\x7f\x1b[8m hidden"}, reason="runs [bold]\r")
    assert cli.terminal_approver(console)(request) == "no"
    shown = buffer.getvalue()
    assert not re.search("[\x00-\x08\x0b-\x1f\x7f]", shown), repr(shown)
    assert "bash\\x1b[2K" in shown and "runs [bold]\\r" in shown and "/\\u007f\\u001b[8m hidden" in shown
    assert "allow? [y]es / [n]o / [a]lways" in shown  # the keys were read as markup and vanished


def test_sandbox_progress_lines_are_shown_literally(make_repo: Callable[..., Path], run_cli: Callable[..., Any],
                                                    monkeypatch: pytest.MonkeyPatch, sandbox: Sandbox) -> None:
    """Progress lines carry the output of the repo's setup command (an image build) and warnings about the repo."""
    def choose(config: Any, repo: Path, progress: Callable[[str], None]) -> tuple[Sandbox, str]:
        progress("Step 3/9: \x1b[2K\r[/]installed \u202eevil")
        return sandbox, "repo config says \x1b]0;x\x07"

    repo = make_repo({"README.md": "hello\n"})
    steps = [reply("", call("submit", summary="nothing"))]
    cli_fix = cli.cmd_fix

    def fix(args: Any) -> int:
        monkeypatch.setattr(factories, "choose_sandbox", choose)
        return cli_fix(args)

    monkeypatch.setattr(cli, "cmd_fix", fix)
    code, out, err, model = run_cli(["fix", "x", "--repo", str(repo), "--no-stream", "--test-command", "true"], steps)
    assert code in (0, 1), err
    assert not re.search("[\x00-\x08\x0b-\x1f\x7f\u202e]", err), repr(err)
    assert "Step 3/9: \\x1b[2K\\r[/]installed \\u202eevil" in err and "repo config says \\x1b]0;x\\x07" in err
