"""JSON-RPC client for the tool server over any pair of byte streams (a subprocess's pipes, a container's socket)."""

from __future__ import annotations

import itertools
import json
import os
import queue
import threading
from collections.abc import Callable
from typing import IO, Any, Protocol

from .base import SandboxError

_EOF = object()
MAX_MESSAGE = 64 * 1024 * 1024  # the longest line the tool server may send: a bigger patch is refused, not read


class MessageTooLong(SandboxError):
    """A line on the tool server's stream was over the reader's limit; it was skipped whole, the stream is in step."""

    def __init__(self, size: int, limit: int) -> None:
        super().__init__(f"the tool server sent a {size / 2**20:.0f} MiB message, over the {limit / 2**20:.0f} MiB limit")
        self.size = size
        self.limit = limit


class LineReader:
    """Lines from a stream of byte chunks (next_chunk() -> b"" at EOF), linear in the bytes read: each chunk is
    searched for a newline once. A line longer than max_line is not kept: it is read to its end and reported by
    raising MessageTooLong from readline()."""

    def __init__(self, max_line: int = MAX_MESSAGE) -> None:
        self.max_line = max_line
        self._parts: list[bytes] = []
        self._size = 0
        self._pending = b""  # what followed the newline in the chunk that ended the last line
        self._skipping = False

    def next_chunk(self) -> bytes:
        raise NotImplementedError

    def _end_line(self) -> bytes:
        line, skipped, size = b"".join(self._parts), self._skipping, self._size
        self._parts, self._size, self._skipping = [], 0, False
        if skipped:
            raise MessageTooLong(size, self.max_line)
        return line

    def readline(self) -> bytes:
        while True:
            chunk, self._pending = (self._pending, b"") if self._pending else (self.next_chunk(), b"")
            if not chunk:
                return self._end_line()
            cut = chunk.find(b"\n")
            head, self._pending = (chunk, b"") if cut < 0 else (chunk[: cut + 1], chunk[cut + 1:])
            self._size += len(head)
            if self._size > self.max_line:
                self._skipping, self._parts = True, []
            elif not self._skipping:
                self._parts.append(head)
            if cut >= 0:
                return self._end_line()


class PipeReader(LineReader):
    """Lines from a subprocess's pipe."""

    def __init__(self, stream: IO[bytes], max_line: int = MAX_MESSAGE) -> None:
        super().__init__(max_line)
        self._stream = stream  # owns the fd: kept alive as long as the reader
        self._fd = stream.fileno()

    def next_chunk(self) -> bytes:
        return os.read(self._fd, 1 << 20)


WORKSPACE_ERROR = -32000  # the tool server's code for a workspace operation that failed while the server is fine


class WorkspaceError(SandboxError):
    """A workspace operation (snapshot, restore, patch) failed: git was killed, the disk, memory or inodes ran out, or
    the patch is too large. The tool server still answers; the session may go on."""


class _Unreadable:
    """What the reader found on the stream instead of a JSON message (kept for the error message)."""

    def __init__(self, reason: str) -> None:
        self.reason = reason


class ByteWriter(Protocol):
    """Where requests go: a pipe (the local server's stdin) or the attached container socket."""

    def write(self, data: bytes) -> int: ...

    def flush(self) -> None: ...


class JsonRpcClient:
    """Line-delimited JSON-RPC 2.0 with a per-request timeout; a reader thread feeds responses to a queue.

    The stream is hostile input: each line must be UTF-8 JSON answering the one request in flight, by its id. Anything
    else (bytes that are not JSON, an answer nobody asked for, an id that was not sent, a second answer) is a protocol
    violation: the pending request fails and the client takes no further answers from that stream. A line over the
    reader's limit fails only its request (the reader skipped it whole, so the stream is still in step)."""

    def __init__(self, writer: ByteWriter, reader: LineReader, describe_failure: Callable[[], str] = lambda: "") -> None:
        self._writer = writer
        self._ids = itertools.count(1)
        self._responses: queue.Queue[Any] = queue.Queue()
        self._describe_failure = describe_failure
        self._lock = threading.Lock()
        self._dead = False
        self._thread = threading.Thread(target=self._read_loop, args=(reader,), daemon=True)
        self._thread.start()

    def _read_loop(self, reader: LineReader) -> None:
        while True:
            try:
                line = reader.readline()
            except MessageTooLong as exc:  # skipped whole by the reader: the stream is still in step
                self._responses.put(exc)
                continue
            except Exception:  # noqa: BLE001 - a broken stream ends the session, never the host
                break
            if not line:
                break
            line = line.strip()
            if not line:
                continue
            try:
                self._responses.put(json.loads(line))
            except ValueError:  # not JSON, or not UTF-8 (UnicodeDecodeError)
                self._responses.put(_Unreadable(f"the tool server sent a line that is not a JSON message: "
                                                f"{line[:80]!r}"))
        self._responses.put(_EOF)

    def _fail(self, message: str) -> SandboxError:
        self._dead = True
        return SandboxError(message)

    def request(self, method: str, params: dict[str, Any] | None = None, timeout: float | None = 60.0) -> Any:
        """Send one request and wait for its response; raise SandboxError on timeout, EOF, RPC or protocol error."""
        with self._lock:
            if self._dead:
                raise SandboxError("the tool server is no longer running")
            self._check_nothing_unasked()
            req_id = next(self._ids)
            payload = json.dumps({"jsonrpc": "2.0", "id": req_id, "method": method, "params": params or {}})
            try:
                self._writer.write(payload.encode("utf-8", errors="surrogateescape") + b"\n")
                self._writer.flush()
            except (OSError, ValueError) as exc:
                self._dead = True
                raise SandboxError(f"the tool server stopped accepting requests: {exc}. {self._describe_failure()}") from exc
            try:
                message = self._responses.get(timeout=timeout)
            except queue.Empty:
                raise self._fail(f"the tool server did not answer '{method}' within {timeout:.0f}s") from None
            if message is _EOF:
                raise self._fail(f"the tool server exited unexpectedly. {self._describe_failure()}".strip())
            if isinstance(message, MessageTooLong):
                raise message
            if isinstance(message, _Unreadable):
                raise self._fail(f"protocol violation on the tool server's stream: {message.reason}")
            if not isinstance(message, dict) or message.get("id") != req_id or ("result" in message) == ("error" in message):
                raise self._fail(f"protocol violation on the tool server's stream: expected the answer to request "
                                 f"{req_id} ('{method}'), got {json.dumps(message)[:120]}")
            if "error" in message:
                err = message["error"] if isinstance(message["error"], dict) else {"message": message["error"]}
                kind = WorkspaceError if err.get("code") == WORKSPACE_ERROR else SandboxError
                raise kind(f"tool server error {err.get('code')}: {err.get('message')}")
            return message["result"]

    def _check_nothing_unasked(self) -> None:
        """An answer that arrived while no request was in flight was never asked for."""
        try:
            message = self._responses.get_nowait()
        except queue.Empty:
            return
        if message is _EOF:
            self._responses.put(_EOF)
            return
        raise self._fail(f"protocol violation on the tool server's stream: an unasked message "
                         f"{json.dumps(message, default=repr)[:120]}")

    @property
    def alive(self) -> bool:
        return not self._dead


def result_field(result: Any, key: str, kind: type) -> Any:
    """RESULT[KEY] when RESULT is an object and the value has type KIND; else SandboxError (answers are hostile input)."""
    value = result.get(key) if isinstance(result, dict) else None
    if not isinstance(value, kind):
        raise SandboxError(f"the tool server's answer has no {kind.__name__} '{key}'")
    return value


class ToolServerCalls:
    """The session methods every sandbox answers through its tool server's JSON-RPC client (self._rpc)."""

    _rpc: JsonRpcClient
    options: Any
    rpc_margin: float = 30.0

    def call(self, name: str, arguments: dict[str, Any], timeout: float | None = None) -> Any:
        from coder_tools.base import ToolResult

        wait = timeout if timeout is not None else self.options.bash_timeout + self.rpc_margin
        answer = self._rpc.request("call", {"name": name, "arguments": arguments}, timeout=wait)
        try:
            return ToolResult.model_validate(answer)
        except ValueError as exc:  # pydantic's ValidationError: the answer is hostile input too
            raise SandboxError(f"the tool server's answer to '{name}' is not a tool result") from exc

    def patch(self) -> str:
        try:
            answer = self._rpc.request("patch", {}, timeout=120)
        except MessageTooLong as exc:
            raise WorkspaceError(f"the patch is over {exc.limit / 2**20:.0f} MiB ({exc.size / 2**20:.0f} MiB as sent), "
                               "too large to review: it was not taken out of the sandbox") from exc
        return str(result_field(answer, "patch", str))

    def snapshot(self) -> str:
        """Record the workspace as it is now (shell side effects included); returns an id for restore()."""
        return str(result_field(self._rpc.request("snapshot", {}, timeout=120), "id", str))

    def restore(self, snapshot_id: str) -> list[str]:
        """Put the workspace back to a snapshot; returns the paths that changed."""
        return [str(p) for p in result_field(self._rpc.request("restore", {"id": snapshot_id}, timeout=120), "changed", list)]
