"""A tiny Hugging Face hub on 127.0.0.1: HEAD/GET /{repo}/resolve/{rev}/{file} with the headers hf_hub_download reads."""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

COMMIT = "0123456789abcdef0123456789abcdef01234567"


class FakeHub:
    """files: {(repo_id, filename): bytes}. `requests` records (method, path, range header) for assertions."""

    def __init__(self, files: dict[tuple[str, str], bytes]) -> None:
        self.files = files
        self.requests: list[tuple[str, str, str | None]] = []
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_HEAD(self) -> None:  # noqa: N802
                hub._answer(self, body=False)

            def do_GET(self) -> None:  # noqa: N802
                hub._answer(self, body=True)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> FakeHub:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _answer(self, handler: BaseHTTPRequestHandler, body: bool) -> None:
        self.requests.append((handler.command, handler.path, handler.headers.get("Range")))
        match = re.fullmatch(r"/(?P<repo>[^/]+/[^/]+)/resolve/(?P<rev>[^/]+)/(?P<file>[^?]+)(\?.*)?", handler.path)
        data = self.files.get((match["repo"], match["file"])) if match else None
        if data is None:
            handler.send_response(404)
            handler.send_header("X-Error-Code", "EntryNotFound")
            handler.send_header("X-Repo-Commit", COMMIT)
            handler.send_header("Content-Length", "0")
            handler.end_headers()
            return
        start = 0
        wanted = handler.headers.get("Range")
        if body and wanted and (m := re.fullmatch(r"bytes=(\d+)-", wanted)):
            start = int(m[1])
        handler.send_response(206 if start else 200)
        handler.send_header("X-Repo-Commit", COMMIT)
        handler.send_header("ETag", f'"{hashlib.sha256(data).hexdigest()}"')
        handler.send_header("Content-Length", str(len(data) - start))
        if start:
            handler.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        handler.end_headers()
        if body:
            for chunk in _chunks(data[start:]):
                handler.wfile.write(chunk)


def _chunks(data: bytes, size: int = 65536) -> Iterator[bytes]:
    for offset in range(0, len(data), size):
        yield data[offset:offset + size]
