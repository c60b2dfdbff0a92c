"""JSON-RPC client for the tool server over any pair of byte streams (a subprocess's pipes, a container's socket)."""

from __future__ import annotations

import itertools
import json
import queue
import threading
from typing import IO, Any, Callable

from .base import SandboxError

_EOF = object()


class JsonRpcClient:
    """Line-delimited JSON-RPC 2.0 with a per-request timeout; a reader thread feeds responses to a queue."""

    def __init__(self, writer: IO[bytes], reader: IO[bytes], describe_failure: Callable[[], str] = lambda: "") -> None:
        self._writer = writer
        self._ids = itertools.count(1)
        self._responses: queue.Queue[Any] = queue.Queue()
        self._describe_failure = describe_failure
        self._lock = threading.Lock()
        self._dead = False
        self._thread = threading.Thread(target=self._read_loop, args=(reader,), daemon=True)
        self._thread.start()

    def _read_loop(self, reader: IO[bytes]) -> None:
        try:
            for line in iter(reader.readline, b""):
                line = line.strip()
                if not line:
                    continue
                try:
                    self._responses.put(json.loads(line))
                except json.JSONDecodeError:
                    continue  # noise on the stream; the request will time out or get its real answer
        except (OSError, ValueError):
            pass
        self._responses.put(_EOF)

    def request(self, method: str, params: dict[str, Any] | None = None, timeout: float | None = 60.0) -> Any:
        """Send one request and wait for its response; raise SandboxError on timeout, EOF or RPC error."""
        with self._lock:
            if self._dead:
                raise SandboxError("the tool server is no longer running")
            req_id = next(self._ids)
            payload = json.dumps({"jsonrpc": "2.0", "id": req_id, "method": method, "params": params or {}})
            try:
                self._writer.write(payload.encode("utf-8") + b"\n")
                self._writer.flush()
            except (OSError, ValueError) as exc:
                self._dead = True
                raise SandboxError(f"the tool server stopped accepting requests: {exc}. {self._describe_failure()}") from exc
            while True:
                try:
                    message = self._responses.get(timeout=timeout)
                except queue.Empty:
                    self._dead = True
                    raise SandboxError(f"the tool server did not answer '{method}' within {timeout:.0f}s") from None
                if message is _EOF:
                    self._dead = True
                    raise SandboxError(f"the tool server exited unexpectedly. {self._describe_failure()}".strip())
                if isinstance(message, dict) and message.get("id") == req_id:
                    break
            if "error" in message:
                err = message["error"]
                raise SandboxError(f"tool server error {err.get('code')}: {err.get('message')}")
            return message.get("result")

    @property
    def alive(self) -> bool:
        return not self._dead


class ToolServerCalls:
    """The session methods every sandbox answers through its tool server's JSON-RPC client (self._rpc)."""

    _rpc: JsonRpcClient
    options: Any
    rpc_margin: float = 30.0

    def call(self, name: str, arguments: dict[str, Any], timeout: float | None = None) -> Any:
        from coder_tools.base import ToolResult

        wait = timeout if timeout is not None else self.options.bash_timeout + self.rpc_margin
        return ToolResult.model_validate(self._rpc.request("call", {"name": name, "arguments": arguments}, timeout=wait))

    def patch(self) -> str:
        return str(self._rpc.request("patch", {}, timeout=120)["patch"])

    def snapshot(self) -> str:
        """Record the workspace as it is now (shell side effects included); returns an id for restore()."""
        return str(self._rpc.request("snapshot", {}, timeout=120)["id"])

    def restore(self, snapshot_id: str) -> list[str]:
        """Put the workspace back to a snapshot; returns the paths that changed."""
        return [str(p) for p in self._rpc.request("restore", {"id": snapshot_id}, timeout=120)["changed"]]
