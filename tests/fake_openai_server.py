"""A scripted OpenAI-compatible HTTP server on 127.0.0.1 for testing real clients without a model."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal

Kind = Literal["json", "sse", "raw", "status", "slow"]


@dataclass
class Scripted:
    """One scripted answer: a JSON body, an SSE stream of chunks, raw bytes, an HTTP error, or a slow reply."""

    kind: Kind
    body: Any = None
    status: int = 200
    content_type: str = "application/json"
    delay: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)


def completion(
    content: str | None = "",
    tool_calls: list[dict[str, Any]] | None = None,
    usage: dict[str, Any] | None = None,
    finish_reason: str = "stop",
    **extra: Any,
) -> dict[str, Any]:
    """A chat.completion body."""
    message: dict[str, Any] = {"role": "assistant", "content": content}
    if tool_calls:
        message["tool_calls"] = tool_calls
    body: dict[str, Any] = {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": 1700000000,
        "model": "fake",
        "choices": [{"index": 0, "message": message, "finish_reason": finish_reason}],
        **extra,
    }
    if usage is not None:
        body["usage"] = usage
    return body


def native_call(call_id: str, name: str, arguments: str | dict[str, Any]) -> dict[str, Any]:
    """One entry of message.tool_calls (arguments given as a dict are JSON-encoded)."""
    args = arguments if isinstance(arguments, str) else json.dumps(arguments)
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": args}}


def chunk(
    content: str | None = None,
    tool_calls: list[dict[str, Any]] | None = None,
    finish_reason: str | None = None,
    usage: dict[str, Any] | None = None,
    no_choices: bool = False,
    **extra: Any,
) -> dict[str, Any]:
    """A chat.completion.chunk body."""
    delta: dict[str, Any] = {}
    if content is not None:
        delta["content"] = content
    if tool_calls is not None:
        delta["tool_calls"] = tool_calls
    body: dict[str, Any] = {
        "id": "chatcmpl-test",
        "object": "chat.completion.chunk",
        "created": 1700000000,
        "model": "fake",
        "choices": [] if no_choices else [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
        **extra,
    }
    if usage is not None:
        body["usage"] = usage
    return body


def text_stream(pieces: list[str], usage: dict[str, Any] | None = None, **extra: Any) -> list[dict[str, Any]]:
    """Chunks for a plain text reply, then a finish chunk, then (optionally) a usage-only chunk."""
    chunks = [chunk(content=p) for p in pieces] + [chunk(finish_reason="stop")]
    if usage is not None or extra:
        chunks.append(chunk(usage=usage, no_choices=True, **extra))
    return chunks


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
        pass

    def _send(self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        fake = self.server.fake
        with fake.lock:
            fake.gets.append(self.path)
        if self.path.rstrip("/").endswith("/models"):
            extra = {"meta": fake.meta} if fake.meta is not None else {}
            data = {"object": "list", "data": [{"id": m, "object": "model", "created": 0, "owned_by": "me", **extra}
                                               for m in fake.models]}
            self._send(200, json.dumps(data).encode(), "application/json")
        elif self.path.rstrip("/") == "/props" and fake.props is not None:
            self._send(200, json.dumps(fake.props).encode(), "application/json")
        else:
            self._send(404, b'{"error": {"message": "not found"}}', "application/json")

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        fake = self.server.fake
        try:
            body = json.loads(raw)
        except ValueError:
            body = {"_unparsed": raw.decode("utf-8", "replace")}
        if fake.tokenize and self.path.rstrip("/") == "/tokenize":  # like coder's runtime: one token per UTF-8 byte
            content = str(body.get("content", "")) if isinstance(body, dict) else ""
            with fake.lock:
                fake.tokenized.append(content)
            data = json.dumps({"tokens": list(content.encode("utf-8", "replace"))}).encode()
            self._send(200, data, "application/json")
            return
        with fake.lock:
            fake.requests.append(body)
            fake.paths.append(self.path)
            script = fake.queue.pop(0) if fake.queue else None
        try:
            self._answer(script)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeouts)
            pass

    def _answer(self, script: Scripted | None) -> None:
        if script is None:
            self._send(500, b'{"error": {"message": "fake server: no scripted response left"}}', "application/json")
            return
        if script.kind == "slow":
            self.server.fake.stopping.wait(script.delay)
            self._send(200, json.dumps(script.body or completion("late")).encode(), script.content_type)
        elif script.kind == "json":
            self._send(script.status, json.dumps(script.body).encode(), script.content_type, script.headers)
        elif script.kind in ("raw", "status"):
            data = script.body if isinstance(script.body, bytes) else str(script.body or "").encode()
            self._send(script.status, data, script.content_type, script.headers)
        elif script.kind == "sse":
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-cache")
            self.end_headers()
            for item in script.body:
                payload = item if isinstance(item, str) else json.dumps(item)
                self.wfile.write(f"data: {payload}\n\n".encode())
                self.wfile.flush()
                if script.delay:
                    time.sleep(script.delay)
            self.wfile.write(b"data: [DONE]\n\n")
            self.wfile.flush()
            self.close_connection = True


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    fake: FakeOpenAIServer


class FakeOpenAIServer:
    """Serves /v1/chat/completions from a queue of Scripted answers and records every request body.

    An empty queue answers HTTP 500 "no scripted response left", so an unexpected call fails the test.
    Optional, off by default: META on every /v1/models entry, PROPS served at GET /props, and POST /tokenize answered
    (one token per UTF-8 byte) when TOKENIZE is set.
    """

    def __init__(self, models: list[str] | None = None, meta: dict[str, Any] | None = None,
                 props: dict[str, Any] | None = None, tokenize: bool = False) -> None:
        self.queue: list[Scripted] = []
        self.requests: list[dict[str, Any]] = []
        self.paths: list[str] = []
        self.gets: list[str] = []  # the path of every GET (/v1/models, /props), in order
        self.tokenized: list[str] = []  # the content of every POST /tokenize answered (with tokenize=True)
        self.models = models or ["qwen2.5-coder"]
        self.meta = meta  # given: every /v1/models entry carries it as "meta" (coder's runtime: n_ctx, threads, ...)
        self.props = props  # given: GET /props answers it (llama.cpp server); else /props is a 404
        self.tokenize = tokenize  # True: POST /tokenize answers like coder's runtime instead of taking a scripted reply
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self._httpd = _Server(("127.0.0.1", 0), _Handler)
        self._httpd.fake = self
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,), name="fake-openai", daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    def start(self) -> FakeOpenAIServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> FakeOpenAIServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---------------------------------------------------------------- scripting

    def push(self, *scripts: Scripted) -> FakeOpenAIServer:
        with self.lock:
            self.queue.extend(scripts)
        return self

    def reply(self, body: dict[str, Any]) -> FakeOpenAIServer:
        return self.push(Scripted("json", body))

    def stream(self, chunks: list[dict[str, Any] | str], delay: float = 0.0) -> FakeOpenAIServer:
        return self.push(Scripted("sse", chunks, delay=delay))

    def garbage(self, body: str = "<html>oops, not json", content_type: str = "application/json") -> FakeOpenAIServer:
        return self.push(Scripted("raw", body, content_type=content_type))

    def error(self, status: int = 500, message: str = "internal error", **headers: str) -> FakeOpenAIServer:
        body = json.dumps({"error": {"message": message, "type": "server_error", "code": status}})
        extra = {k.replace("_", "-"): v for k, v in headers.items()}
        return self.push(Scripted("status", body, status=status, headers=extra))

    def slow(self, delay: float = 5.0) -> FakeOpenAIServer:
        return self.push(Scripted("slow", completion("too late"), delay=delay))

    @property
    def last(self) -> dict[str, Any]:
        """The most recent request body."""
        return self.requests[-1]
