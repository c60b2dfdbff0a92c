"""The tool server keeps its channel to itself: settings taken once, protocol streams off the fds children inherit."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Iterator

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


def rpc(proc: subprocess.Popen[str], method: str, params: dict[str, Any] | None = None, rid: int = 1) -> dict[str, Any]:
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(json.dumps({"jsonrpc": "2.0", "id": rid, "method": method, "params": params or {}}) + "\n")
    proc.stdin.flush()
    return json.loads(proc.stdout.readline())


def test_initialize_is_accepted_once(server: subprocess.Popen[str], tmp_path: Path) -> None:
    """An injected second initialize turned stray-killing off and raised the output cap."""
    assert "result" in rpc(server, "initialize", {"root": str(tmp_path), "options": {"output_cap": 2000}})
    again = rpc(server, "initialize", {"root": "/", "options": {"output_cap": 10**8, "kill_strays": False}}, rid=2)
    assert again["error"]["message"] == "already initialized"
    long = rpc(server, "call", {"name": "bash", "arguments": {"command": "seq 1 100000"}}, rid=3)
    assert len(long["result"]["output"]) < 4000  # the first settings still hold


def test_children_cannot_inherit_the_protocol_streams(server: subprocess.Popen[str], tmp_path: Path) -> None:
    """fd 0 and 1 of the server are /dev/null and stderr; the protocol lives on close-on-exec fds."""
    assert "result" in rpc(server, "initialize", {"root": str(tmp_path), "options": {}})
    assert os.readlink(f"/proc/{server.pid}/fd/0") == "/dev/null"
    assert os.readlink(f"/proc/{server.pid}/fd/1") == os.readlink(f"/proc/{server.pid}/fd/2")
    probe = "for f in /proc/self/fd/*; do readlink $f; done"
    out = rpc(server, "call", {"name": "bash", "arguments": {"command": probe}}, rid=2)["result"]["output"]
    protocol = {os.readlink(f"/proc/{server.pid}/fd/{fd}") for fd in os.listdir(f"/proc/{server.pid}/fd")}
    protocol = {link for link in protocol if link.startswith("pipe:")}  # the host's two pipes, now on fds > 2
    assert protocol and not [link for link in protocol if link in out], (protocol, out)
