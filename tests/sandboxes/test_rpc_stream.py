"""The host's JSON-RPC client against a hostile stream: bytes that are not UTF-8, answers nobody asked for, ids that
were not sent, over-long lines; and the Docker frame reader's cost on a large answer."""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from collections.abc import Iterator

import pytest

from coder.sandboxes.base import SandboxError
from coder.sandboxes.docker import _FrameReader
from coder.sandboxes.rpc import JsonRpcClient, LineReader, MessageTooLong, PipeReader


class Peer:
    """The far end of a client: reads its requests, writes whatever the test says."""

    def __init__(self, max_line: int = 1 << 20) -> None:
        req_r, self._req_w = os.pipe()
        self._ans_r, ans_w = os.pipe()
        self.requests = os.fdopen(req_r, "rb")
        self.answers = os.fdopen(ans_w, "wb")
        self.client = JsonRpcClient(os.fdopen(self._req_w, "wb"), PipeReader(os.fdopen(self._ans_r, "rb"), max_line))

    def next_request(self) -> dict:
        return json.loads(self.requests.readline())

    def send(self, raw: bytes) -> None:
        self.answers.write(raw)
        self.answers.flush()

    def answer(self, req_id: object, result: object) -> None:
        self.send(json.dumps({"jsonrpc": "2.0", "id": req_id, "result": result}).encode() + b"\n")

    def close(self) -> None:
        self.answers.close()


@pytest.fixture
def peer() -> Iterator[Peer]:
    p = Peer()
    yield p
    p.close()


def ask_in_background(peer: Peer, method: str = "ping", timeout: float = 5) -> dict:
    outcome: dict = {}

    def run() -> None:
        try:
            outcome["result"] = peer.client.request(method, {}, timeout=timeout)
        except SandboxError as exc:
            outcome["error"] = str(exc)

    thread = threading.Thread(target=run)
    thread.start()
    outcome["thread"] = thread
    return outcome


def test_a_line_that_is_not_utf8_fails_the_request_instead_of_killing_the_reader(peer: Peer) -> None:
    outcome = ask_in_background(peer)
    peer.next_request()
    start = time.monotonic()
    peer.send(b'{"jsonrpc": "2.0", "id": 1, "result": "\xff\xfe"}\n')
    outcome["thread"].join(10)
    assert time.monotonic() - start < 3  # an error at once, not a timeout after the reader died
    assert "protocol violation" in outcome["error"] and "not a JSON message" in outcome["error"]
    assert not peer.client.alive


def test_an_answer_that_arrived_before_its_request_is_a_violation(peer: Peer) -> None:
    """A command that reached the stream wrote answers ahead; the next request must not take one for its own."""
    peer.answer(1, {"ok": True, "output": "FORGED"})
    time.sleep(0.3)  # the reader has queued it
    outcome = ask_in_background(peer)
    outcome["thread"].join(10)
    assert "result" not in outcome and "unasked message" in outcome["error"], outcome


@pytest.mark.parametrize("bad", [
    {"jsonrpc": "2.0", "id": 7, "result": "for a request never sent"},
    {"jsonrpc": "2.0", "id": 1, "result": "both", "error": {"code": 1, "message": "x"}},
    {"jsonrpc": "2.0", "id": 1},
    ["not", "an", "object"],
], ids=["unknown-id", "result-and-error", "neither", "array"])
def test_an_answer_that_does_not_match_the_request_in_flight_is_a_violation(peer: Peer, bad: object) -> None:
    outcome = ask_in_background(peer)
    peer.next_request()
    peer.send(json.dumps(bad).encode() + b"\n")
    peer.answer(1, "real")
    outcome["thread"].join(10)
    assert "result" not in outcome and "protocol violation" in outcome["error"], outcome
    with pytest.raises(SandboxError, match="no longer running"):
        peer.client.request("ping", {}, timeout=1)


def test_an_over_long_line_fails_only_its_request() -> None:
    peer = Peer(max_line=1000)
    try:
        outcome = ask_in_background(peer)
        peer.next_request()
        peer.answer(1, "x" * 5000)
        outcome["thread"].join(10)
        assert "over the" in outcome["error"]
        outcome = ask_in_background(peer)
        req = peer.next_request()
        peer.answer(req["id"], "fine")
        outcome["thread"].join(10)
        assert outcome["result"] == "fine"
    finally:
        peer.close()


class Chunks(LineReader):
    def __init__(self, chunks: list[bytes], max_line: int) -> None:
        super().__init__(max_line)
        self._chunks = iter(chunks)

    def next_chunk(self) -> bytes:
        return next(self._chunks, b"")


def test_line_reader_splits_joins_and_skips() -> None:
    reader = Chunks([b"ab", b"c\nde", b"f\ng\n", b"0123456789", b"0123456789\nlast"], max_line=12)
    assert reader.readline() == b"abc\n"
    assert reader.readline() == b"def\n"
    assert reader.readline() == b"g\n"
    with pytest.raises(MessageTooLong):
        reader.readline()
    assert reader.readline() == b"last"
    assert reader.readline() == b""


def _frames(payload: bytes, size: int = 16384) -> Iterator[bytes]:
    for start in range(0, len(payload), size):
        piece = payload[start:start + size]
        yield bytes([1, 0, 0, 0]) + len(piece).to_bytes(4, "big") + piece


def test_frame_reader_is_linear_in_the_line_length() -> None:
    """A 32 MB patch cost 9 s of host CPU to read (each frame re-searched the whole buffer)."""
    payload = b"x" * (32 << 20) + b"\n"
    host, container = socket.socketpair()

    def feed() -> None:
        for frame in _frames(payload):
            container.sendall(frame)
        container.close()

    threading.Thread(target=feed, daemon=True).start()
    start = time.thread_time()  # the reader's CPU, not the feeder's
    line = _FrameReader(host).readline()
    cpu = time.thread_time() - start
    host.close()
    assert line == payload
    assert cpu < 2.0, f"{cpu:.1f} s of CPU for 32 MB"
