"""Tests for grep: .gitignore awareness, filters, caps, odd files, bad regexes and path safety."""

from __future__ import annotations

import json
import select
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from coder_tools import search
from coder_tools.base import MAX_FILE_BYTES, ToolError, Workspace
from coder_tools.search import GrepArgs, grep
from coder_tools.server import run_tool


def _git_init(root: Path) -> None:
    subprocess.run(["git", "init", "-q"], cwd=root, check=True, capture_output=True)


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    root = tmp_path / "repo"
    (root / "src").mkdir(parents=True)
    (root / "src" / "app.py").write_text("import os\n\ndef needle():\n    return 'Needle'\n")
    (root / "src" / "util.txt").write_text("needle in text\n")
    (root / "README.md").write_text("# title\nno match here\n")
    (root / ".gitignore").write_text("build/\n*.log\n")
    (root / "build").mkdir()
    (root / "build" / "gen.py").write_text("needle generated\n")
    (root / "debug.log").write_text("needle logged\n")
    (tmp_path / "outside.txt").write_text("needle secret\n")
    _git_init(root)
    return Workspace(root)


def run(ws: Workspace, **kw: object) -> str:
    return grep(GrepArgs.model_validate(kw), ws).output


def test_finds_matches_with_paths_and_line_numbers(ws: Workspace) -> None:
    out = run(ws, pattern=r"def \w+")
    assert "src/app.py:3: def needle():" in out


def test_gitignored_files_are_skipped(ws: Workspace) -> None:
    out = run(ws, pattern="needle")
    assert "src/app.py:3:" in out and "src/util.txt:1:" in out
    assert "build/" not in out and "debug.log" not in out


def test_untracked_and_tracked_files_both_searched(ws: Workspace) -> None:
    subprocess.run(["git", "add", "src/app.py"], cwd=ws.root, check=True)
    out = run(ws, pattern="needle")
    assert "src/app.py" in out and "src/util.txt" in out


def test_without_git_falls_back_to_walking(tmp_path: Path) -> None:
    root = tmp_path / "plain"
    (root / ".git").mkdir(parents=True)  # not a real repository: git fails, .git is still skipped
    (root / ".git" / "config").write_text("needle\n")
    (root / "a.py").write_text("needle\n")
    out = run(Workspace(root), pattern="needle")
    assert "a.py:1: needle" in out and ".git" not in out


def test_repository_above_the_workspace_is_not_used(tmp_path: Path) -> None:
    _git_init(tmp_path)
    (tmp_path / ".gitignore").write_text("inner/\n")
    root = tmp_path / "inner"
    root.mkdir()
    (root / "a.py").write_text("needle\n")
    assert "a.py:1: needle" in run(Workspace(root), pattern="needle")


def test_include_path_and_ignore_case(ws: Workspace) -> None:
    assert "util.txt" not in run(ws, pattern="needle", include="*.py")
    assert "src/app.py" in run(ws, pattern="needle", include="src/*.py")
    assert "util.txt" in run(ws, pattern="needle", include="*.{py,txt}")
    assert "src/app.py" in run(ws, pattern="needle", include="**/*.py")
    assert "README" not in run(ws, pattern="needle", path="src")
    assert "4:     return 'Needle'" not in run(ws, pattern="needle", path="src/app.py")
    assert "src/app.py:4:     return 'Needle'" in run(ws, pattern="needle", path="src/app.py", ignore_case=True)


def test_explicit_ignored_file_is_searched(ws: Workspace) -> None:
    assert "debug.log:1: needle logged" in run(ws, pattern="needle", path="debug.log")


def test_no_matches(ws: Workspace) -> None:
    result = grep(GrepArgs(pattern="zzz_nothing"), ws)
    assert result.ok and "No matches" in result.output and result.data["matches"] == 0


def test_results_are_capped(ws: Workspace) -> None:
    (ws.root / "many.txt").write_text("hit\n" * 1000)
    result = grep(GrepArgs(pattern="hit", max_results=10), ws)
    assert result.output.count("many.txt:") == 10 and "stopped after 10" in result.output
    assert result.data["truncated"] is True
    result = grep(GrepArgs(pattern="hit", max_results=100_000), ws)
    assert result.output.count("many.txt:") == search.MAX_RESULTS_CAP


def test_long_lines_are_cut_around_the_match(ws: Workspace) -> None:
    (ws.root / "min.js").write_text("a" * 5000 + "TARGET" + "b" * 5000 + "\n")
    line = next(ln for ln in run(ws, pattern="TARGET").splitlines() if ln.startswith("min.js"))
    assert "TARGET" in line and len(line) < search.MAX_LINE_CHARS + 40


def test_binary_and_huge_files_are_skipped(ws: Workspace) -> None:
    (ws.root / "blob.bin").write_bytes(b"\x00needle\x00")
    (ws.root / "huge.txt").write_bytes(b"needle\n" * (MAX_FILE_BYTES // 7 + 10))
    out = run(ws, pattern="needle")
    assert "blob.bin" not in out and "huge.txt:" not in out
    assert "skipped 1 files over" in out and "huge.txt" in out
    with pytest.raises(ToolError, match="binary or over"):
        run(ws, pattern="needle", path="blob.bin")


def test_non_utf8_and_crlf_files(ws: Workspace) -> None:
    (ws.root / "latin.txt").write_bytes(b"caf\xe9 needle\n")
    (ws.root / "dos.txt").write_bytes(b"x = 1\r\nneedle\r\n")
    result = run_tool(ws, "grep", {"pattern": "needle$"})
    assert "latin.txt:1: caf\ufffd needle" in result.output
    assert "dos.txt:2: needle" in result.output


def test_anchors_and_lookarounds_match_per_line(ws: Workspace) -> None:
    (ws.root / "a.txt").write_text("x\nfoo\n")
    assert "a.txt:2: foo" in run(ws, pattern=r"\Afoo\Z")
    assert "a.txt:2: foo" in run(ws, pattern=r"^foo(?!\s)")


def test_bad_regex_is_a_tool_error(ws: Workspace) -> None:
    result = run_tool(ws, "grep", {"pattern": "def foo("})
    assert not result.ok and "invalid regular expression" in result.output and "missing )" in result.output


def test_paths_outside_are_rejected(ws: Workspace) -> None:
    outside = ws.root.parent
    (ws.root / "link_file").symlink_to(outside / "outside.txt")
    (ws.root / "link_dir").symlink_to(outside)
    for path in ("..", "../outside.txt", str(outside), "/etc", "link_file", "link_dir", "link_dir/outside.txt"):
        result = run_tool(ws, "grep", {"pattern": "needle", "path": path})
        assert not result.ok and "outside the repository" in result.output, path
    out = run(ws, pattern="needle")  # the links are listed by git but never followed out of the repository
    assert "secret" not in out and "link_" not in out


def test_symlink_inside_repository_is_followed(ws: Workspace) -> None:
    (ws.root / "alias.py").symlink_to(ws.root / "src" / "app.py")
    assert "alias.py:3: def needle" in run(ws, pattern="def needle")


def test_unknown_arguments_are_rejected(ws: Workspace) -> None:
    result = run_tool(ws, "grep", {"pattern": "x", "recursive": True})
    assert not result.ok and "Extra inputs" in result.output
    result = run_tool(ws, "grep", {"pattern": ""})
    assert not result.ok and "pattern" in result.output


# ---------------------------------------------------------------- catastrophic patterns (ReDoS)

REDOS_LINE = " ".join(f"word{i}" for i in range(40)) + "!\n"  # `(\w+\s?)+$` backtracks for ever on this


def _server_with_time_limit(root: Path, seconds: float) -> subprocess.Popen[str]:
    tools = Path(__file__).resolve().parents[2] / "tools"
    code = f"import coder_tools.search as s; s.TIME_LIMIT = {seconds}; import coder_tools.server as m; m.main()"
    return subprocess.Popen([sys.executable, "-P", "-c", code], cwd=root, text=True, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(tools), "HOME": str(root)})


def _ask(proc: subprocess.Popen[str], method: str, params: dict[str, Any], deadline: float) -> dict[str, Any]:
    """One JSON-RPC round trip that fails the test (instead of hanging it) when no answer comes by deadline."""
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}) + "\n")
    proc.stdin.flush()
    ready, _, _ = select.select([proc.stdout], [], [], max(0.0, deadline - time.monotonic()))
    assert ready, f"the tool server did not answer {method} in time"
    answer: dict[str, Any] = json.loads(proc.stdout.readline())
    return answer


def test_catastrophic_pattern_is_stopped_and_the_server_lives(ws: Workspace) -> None:
    (ws.root / "src" / "prose.txt").write_text("short line\n" + REDOS_LINE)
    proc = _server_with_time_limit(ws.root, 1.0)
    try:
        assert "result" in _ask(proc, "initialize", {"root": str(ws.root)}, time.monotonic() + 30)
        started = time.monotonic()
        answer = _ask(proc, "call", {"name": "grep", "arguments": {"pattern": r"(\w+\s?)+$"}}, started + 10)
        elapsed = time.monotonic() - started
        result = answer["result"]
        assert not result["ok"] and elapsed < 5, (elapsed, result)
        assert "took longer than 1" in result["output"] and "src/prose.txt" in result["output"]
        assert "nested" in result["output"]  # says how to simplify
        again = _ask(proc, "call", {"name": "grep", "arguments": {"pattern": "needle"}}, time.monotonic() + 10)
        assert again["result"]["ok"] and "src/app.py:3:" in again["result"]["output"]
    finally:
        proc.kill()
        proc.communicate()


def test_time_limit_applies_in_process_and_normal_searches_are_unaffected(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(search, "TIME_LIMIT", 1.0)
    (ws.root / "prose.txt").write_text(REDOS_LINE)
    started = time.monotonic()
    result = run_tool(ws, "grep", {"pattern": r"(\w+\s?)+$", "path": "prose.txt"})
    assert not result.ok and time.monotonic() - started < 5 and "took longer than 1" in result.output
    result = run_tool(ws, "grep", {"pattern": r"def \w+"})
    assert result.ok and "src/app.py:3: def needle():" in result.output


def test_programs_planted_in_the_workspace_git_config_do_not_run(ws: Workspace, tmp_path: Path) -> None:
    marker = tmp_path / "ran.txt"
    hook = tmp_path / "hook.sh"
    hook.write_text(f"#!/bin/sh\necho ran >> {marker}\n")
    hook.chmod(0o755)
    subprocess.run(["git", "config", "core.fsmonitor", str(hook)], cwd=ws.root, check=True)
    assert "src/app.py:3:" in run(ws, pattern="needle")
    assert not marker.exists()
