"""The tool server keeps its channel to itself: settings taken once, protocol streams off the fds children inherit."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from test_server import rpc, server  # noqa: F401, F811 - the server fixture: a real subprocess over stdin/stdout


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
