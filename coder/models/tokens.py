"""Counting tokens for the context budget with the model's real tokenizer.

First choice: a transformers fast tokenizer built from the tokenizer stored in the GGUF file (vocabulary, merges,
pre-tokenizer and special tokens; no torch, no hub). Fallback: the server's tokenize endpoint (ours and llama.cpp's
answer POST /tokenize). Last resort, when neither is available: an estimate (4 characters per token) that says so.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ..errors import CoderError
from .base import TokenCounter as TokenCounter  # re-exported with the counters
from .gguf_meta import read_metadata
from .scrub import scrub_text

# Pre-tokenizer split patterns of GPT-2-style BPE tokenizers, by GGUF `tokenizer.ggml.pre`.
_PRE_PATTERNS = {
    "qwen2": r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+",
}
_CONTROL, _USER_DEFINED = 3, 4


class TokenizerError(CoderError):
    """No real tokenizer could be built from this source."""


@lru_cache(maxsize=4)
def gguf_tokenizer(path: Path) -> Any:
    """A transformers PreTrainedTokenizerFast equivalent to the GGUF's own tokenizer (GPT-2-style BPE models)."""
    import os

    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers

    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")  # no "PyTorch was not found" notice: we need none
    from transformers import PreTrainedTokenizerFast

    meta = read_metadata(path, keep_arrays=True)
    if meta.get("tokenizer.ggml.model") != "gpt2":
        raise TokenizerError(f"tokenizer type {meta.get('tokenizer.ggml.model')!r} is not supported (only BPE 'gpt2')")
    pattern = _PRE_PATTERNS.get(str(meta.get("tokenizer.ggml.pre")))
    if pattern is None:
        raise TokenizerError(f"pre-tokenizer {meta.get('tokenizer.ggml.pre')!r} is not supported")
    tokens: list[str] = meta["tokenizer.ggml.tokens"]
    types: list[int] = meta.get("tokenizer.ggml.token_type") or [1] * len(tokens)
    merges = [tuple(m.split(" ", 1)) for m in meta.get("tokenizer.ggml.merges", [])]
    vocab = {token: index for index, token in enumerate(tokens)}
    tokenizer = Tokenizer(models.BPE(vocab=vocab, merges=merges, byte_fallback=False, ignore_merges=False))
    tokenizer.normalizer = normalizers.NFC()
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(pattern), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=False, use_regex=False),
    ])
    tokenizer.decoder = decoders.ByteLevel()
    from tokenizers import AddedToken

    specials = [AddedToken(tokens[i], special=True, normalized=False)
                for i, kind in enumerate(types) if kind in (_CONTROL, _USER_DEFINED)]
    tokenizer.add_special_tokens(specials)
    eos = meta.get("tokenizer.ggml.eos_token_id")
    return PreTrainedTokenizerFast(tokenizer_object=tokenizer,  # type: ignore[no-untyped-call]
                                   eos_token=tokens[eos] if isinstance(eos, int) else None,
                                   chat_template=meta.get("tokenizer.chat_template"))


class GGUFTokenCounter:
    """Counts with the GGUF's tokenizer, built on first use and cached as tokenizer.json (fast to reload)."""

    exact = True

    def __init__(self, path: Path) -> None:
        self.path = path
        self._tokenizer: Any = None

    def _cache_file(self) -> Path:
        import hashlib
        import os

        stat = self.path.stat()
        key = hashlib.sha256(f"{self.path.resolve()}:{stat.st_size}:{stat.st_mtime_ns}".encode()).hexdigest()[:16]
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
        return base / "coder" / "tokenizers" / f"{key}.json"

    @property
    def tokenizer(self) -> Any:
        if self._tokenizer is None:
            from tokenizers import Tokenizer

            cache = self._cache_file()
            if cache.is_file():
                self._tokenizer = Tokenizer.from_file(str(cache))
            else:
                self._tokenizer = gguf_tokenizer(self.path).backend_tokenizer
                cache.parent.mkdir(parents=True, exist_ok=True)
                self._tokenizer.save(str(cache))
        return self._tokenizer

    def count(self, text: str) -> int:
        # Counted as the model gets it: undecodable bytes (surrogate code points) are U+FFFD in the request.
        return len(self.tokenizer.encode(scrub_text(text), add_special_tokens=False).ids)


class ServerTokenCounter:
    """POST {root}/tokenize on the endpoint (llama.cpp server and coder's runtime both serve it)."""

    exact = True

    def __init__(self, base_url: str, timeout: float = 10.0) -> None:
        parts = urlsplit(base_url)
        self.url = f"{parts.scheme}://{parts.netloc}/tokenize"
        self.timeout = timeout

    def count(self, text: str) -> int:
        request = urllib.request.Request(self.url, data=json.dumps({"content": scrub_text(text)}).encode(),
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=self.timeout) as response:
            return len(json.loads(response.read())["tokens"])


class EstimatedTokenCounter:
    exact = False

    def count(self, text: str) -> int:
        return max(1, len(text) // 4)


def count_messages(counter: TokenCounter, messages: Sequence[dict[str, Any]]) -> int:
    """Tokens of a chat request's messages, with a small allowance per message for the template's markers."""
    total = 0
    for message in messages:
        total += 4 + counter.count(str(message.get("content") or ""))
        if message.get("tool_calls"):
            total += counter.count(json.dumps(message["tool_calls"]))
    return total


def token_counter(gguf: Path | None = None, base_url: str | None = None) -> TokenCounter:
    """The best counter available: the GGUF's tokenizer, else the server's tokenize endpoint, else an estimate."""
    if gguf is not None:
        try:
            exact = GGUFTokenCounter(gguf)
            exact.count("probe")  # builds the tokenizer now: a file it cannot read falls back here, not mid-run
            return exact
        except (TokenizerError, ImportError, OSError, KeyError, ValueError):
            pass
    if base_url is not None:
        counter = ServerTokenCounter(base_url)
        try:
            counter.count("probe")
            return counter
        except (OSError, ValueError, KeyError):
            pass
    return EstimatedTokenCounter()
