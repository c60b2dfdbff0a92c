"""Start and stop the bundled runtime as a child process serving 127.0.0.1, for provider = "local"."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from ..models.base import ModelError

READY_TIMEOUT = 180.0


@dataclass(frozen=True)
class RuntimeInfo:
    url: str
    name: str
    model_path: Path
    n_ctx: int
    threads: int


class LocalRuntime:
    """A running `python -m coder.runtime.server`; use as a context manager (stopped on exit, Ctrl-C included)."""

    def __init__(self, model_path: Path, name: str, n_ctx: int, threads: int, grammar: bool = True,
                 port: int = 0, prefix_cache: bool = True, max_text_chars: int | None = None,
                 max_string_chars: int | None = None, prompt_lookup: int = 0, kv_states_mb: int | None = None) -> None:
        self.model_path, self.name, self.n_ctx, self.threads = model_path, name, n_ctx, threads
        self.grammar, self.port, self.prefix_cache = grammar, port, prefix_cache
        self.max_text_chars, self.max_string_chars = max_text_chars, max_string_chars
        self.prompt_lookup, self.kv_states_mb = prompt_lookup, kv_states_mb
        self._proc: subprocess.Popen[str] | None = None
        self.info: RuntimeInfo | None = None

    def start(self) -> RuntimeInfo:
        cmd = [sys.executable, "-m", "coder.runtime.server", "--model", str(self.model_path), "--name", self.name,
               "--n-ctx", str(self.n_ctx), "--threads", str(self.threads), "--port", str(self.port), "--parent", str(os.getpid())]
        if not self.grammar:
            cmd.append("--no-grammar")
        if not self.prefix_cache:
            cmd.append("--no-prefix-cache")
        if self.max_text_chars is not None:
            cmd += ["--max-text-chars", str(self.max_text_chars)]
        if self.max_string_chars is not None:
            cmd += ["--max-string-chars", str(self.max_string_chars)]
        if self.prompt_lookup:
            cmd += ["--prompt-lookup", str(self.prompt_lookup)]
        if self.kv_states_mb is not None:
            cmd += ["--kv-states-mb", str(self.kv_states_mb)]
        self._proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                      text=True, start_new_session=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
        line = self._first_line(self._proc.stdout, READY_TIMEOUT)
        try:
            ready = json.loads(line) if line else {}
        except json.JSONDecodeError:
            ready = {}
        if not ready.get("ready"):
            err = self._proc.stderr.read()[-1500:] if self._proc.poll() is not None and self._proc.stderr else ""
            self.stop()
            raise ModelError(f"the local runtime did not start for {self.model_path}: {line.strip() or err.strip() or 'no answer'}")
        if self._proc.stderr is not None:  # keep draining so a chatty llama.cpp never blocks on a full pipe
            threading.Thread(target=self._proc.stderr.read, daemon=True).start()
        self.info = RuntimeInfo(ready["url"], self.name, self.model_path, int(ready["n_ctx"]), int(ready["threads"]))
        return self.info

    @staticmethod
    def _first_line(stream: IO[str] | None, timeout: float) -> str:
        result: list[str] = []
        reader = threading.Thread(target=lambda: result.append(stream.readline() if stream else ""), daemon=True)
        reader.start()
        reader.join(timeout)
        return result[0] if result else ""

    @property
    def alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(timeout=5)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        proc.wait()

    def __enter__(self) -> RuntimeInfo:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
