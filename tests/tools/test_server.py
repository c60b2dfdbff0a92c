"""The tool server's JSON-RPC protocol, spoken over a real subprocess's stdin/stdout."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

TOOLS_DIR = Path(__file__).resolve().parents[2] / "tools"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[subprocess.Popen[str]]:
    (tmp_path / "a.py").write_text("print('x')\n")
    proc = subprocess.Popen([sys.executable, "-P", "-m", "coder_tools.server"], cwd=tmp_path, text=True,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(TOOLS_DIR), "HOME": str(tmp_path)})
    yield proc
    proc.kill()
    proc.communicate()


def ask(proc: subprocess.Popen[str], line: str) -> dict[str, Any]:
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(line + "\n")
    proc.stdin.flush()
    return json.loads(proc.stdout.readline())


def rpc(proc: subprocess.Popen[str], method: str, params: dict[str, Any] | None = None, rid: int = 1) -> dict[str, Any]:
    return ask(proc, json.dumps({"jsonrpc": "2.0", "id": rid, "method": method, "params": params or {}}))


def test_protocol_errors_do_not_kill_the_server(server: subprocess.Popen[str], tmp_path: Path) -> None:
    assert ask(server, "{not json")["error"]["code"] == -32700
    assert ask(server, "[1, 2]")["error"]["code"] == -32600
    assert rpc(server, "call", {"name": "view_file"})["error"]["message"] == "call initialize first"
    init = rpc(server, "initialize", {"root": str(tmp_path)})["result"]
    assert {t["function"]["name"] for t in init["tools"]} >= {"view_file", "edit_file", "bash", "submit"}
    assert rpc(server, "frobnicate")["error"]["code"] == -32601
    assert rpc(server, "call", {"name": 3})["error"]["code"] == -32602
    result = rpc(server, "call", {"name": "view_file", "arguments": {"path": "a.py"}}, rid=7)
    assert result["id"] == 7 and result["result"]["ok"] and "print('x')" in result["result"]["output"]


def test_command_output_stays_inside_results(server: subprocess.Popen[str], tmp_path: Path) -> None:
    rpc(server, "initialize", {"root": str(tmp_path)})
    out = rpc(server, "call", {"name": "bash", "arguments": {"command": "echo hello"}})
    assert out["result"]["ok"] and "hello" in out["result"]["output"]
    assert rpc(server, "ping")["result"] == {"pong": True}


def test_shutdown_ends_the_process(server: subprocess.Popen[str], tmp_path: Path) -> None:
    rpc(server, "initialize", {"root": str(tmp_path)})
    assert rpc(server, "shutdown")["result"] == {"bye": True}
    assert server.wait(timeout=5) == 0


def test_patch_after_edit(server: subprocess.Popen[str], tmp_path: Path) -> None:
    rpc(server, "initialize", {"root": str(tmp_path)})
    rpc(server, "call", {"name": "edit_file", "arguments": {"path": "a.py", "command": "replace", "old": "'x'", "new": "'y'"}})
    patch = rpc(server, "patch")["result"]["patch"]
    assert "-print('x')" in patch and "+print('y')" in patch
