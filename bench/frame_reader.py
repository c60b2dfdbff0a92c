"""Reading one long answer (a big patch) from Docker's attach stream: the line reader now against the old one, which
appended each frame to a bytes buffer and searched the whole buffer again (same run, same socket, same frames)."""

from __future__ import annotations

import argparse
import socket
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
for entry in (ROOT / "tools", ROOT):  # run from a checkout even without `pip install -e .`
    if str(entry) not in sys.path:
        sys.path.insert(0, str(entry))

from coder.sandboxes.docker import _FrameReader  # noqa: E402

FRAME = 16384  # what the engine sends per stdout frame for a long write


class OldFrameReader:
    """The reader before the fix, kept here as the baseline: quadratic in the line's length."""

    def __init__(self, sock: Any) -> None:
        self._sock = sock
        self._buffer = b""

    def _read_exact(self, size: int) -> bytes:
        data = b""
        while len(data) < size:
            chunk = self._sock.recv(size - len(data))
            if not chunk:
                return b""
            data += chunk
        return data

    def _next_stdout(self) -> bytes:
        while True:
            header = self._read_exact(8)
            if len(header) < 8:
                return b""
            payload = self._read_exact(int.from_bytes(header[4:8], "big"))
            if header[0] == 1:
                return payload

    def readline(self) -> bytes:
        while b"\n" not in self._buffer:
            chunk = self._next_stdout()
            if not chunk:
                line, self._buffer = self._buffer, b""
                return line
            self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        return line + b"\n"


def cpu_seconds(make_reader: Callable[[Any], Any], size: int) -> float:
    payload = b"x" * size + b"\n"
    host, container = socket.socketpair()

    def feed() -> None:
        for start in range(0, len(payload), FRAME):
            piece = payload[start:start + FRAME]
            container.sendall(bytes([1, 0, 0, 0]) + len(piece).to_bytes(4, "big") + piece)
        container.close()

    feeder = threading.Thread(target=feed, daemon=True)
    feeder.start()
    start = time.thread_time()  # this thread's CPU only: the feeder's sends are not counted
    line = make_reader(host).readline()
    spent = time.thread_time() - start
    feeder.join()
    host.close()
    assert line == payload
    return spent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mib", type=int, nargs="+", default=[1, 4, 16, 32])
    args = parser.parse_args()
    print("| answer | old reader CPU s | new reader CPU s | new / old |")
    print("|---|---|---|---|")
    for mib in args.mib:
        old = cpu_seconds(OldFrameReader, mib << 20)
        new = cpu_seconds(_FrameReader, mib << 20)
        print(f"| {mib} MiB | {old:.3f} | {new:.3f} | {new / old:.3f}x |")


if __name__ == "__main__":
    main()
