"""Token counting on text that holds undecodable bytes (surrogateescape code points) counts, never crashes."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from coder.models.tokens import EstimatedTokenCounter, GGUFTokenCounter, ServerTokenCounter, count_messages

TEXT = "x = 'caf\udce9' # \udcff"
CLEAN = "x = 'caf\ufffd' # \ufffd"


def _word_level() -> Any:
    from tokenizers import Tokenizer, models, pre_tokenizers

    tokenizer = Tokenizer(models.WordLevel({"x": 0, "=": 1, "[UNK]": 2}, unk_token="[UNK]"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    return tokenizer


def test_gguf_counter_counts_text_with_surrogates(tmp_path: Path) -> None:
    counter = GGUFTokenCounter(tmp_path / "unused.gguf")
    counter._tokenizer = _word_level()  # the real tokenizers library, without a model file
    assert counter.count(TEXT) == counter.count(CLEAN) > 0


class _Tokenize(BaseHTTPRequestHandler):
    """Answers /tokenize the way coder's runtime does: the content is encoded as UTF-8 (strictly)."""

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        data = json.dumps({"tokens": list(str(body["content"]).encode())}).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def tokenize_url() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Tokenize)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    httpd.shutdown()
    httpd.server_close()


def test_server_counter_counts_text_with_surrogates(tokenize_url: str) -> None:
    counter = ServerTokenCounter(tokenize_url)
    assert counter.count(TEXT) == counter.count(CLEAN) == len(CLEAN.encode())


def test_count_messages_with_surrogates_in_content_and_arguments(tmp_path: Path) -> None:
    counter = GGUFTokenCounter(tmp_path / "unused.gguf")
    counter._tokenizer = _word_level()
    messages: list[dict[str, Any]] = [
        {"role": "tool", "content": TEXT},
        {"role": "assistant", "content": "", "tool_calls": [{"function": {"arguments": '{"p": "\udcff"}'}}]},
    ]
    assert count_messages(counter, messages) > 8
    assert count_messages(EstimatedTokenCounter(), messages) > 8


def test_the_estimate_says_it_is_inexact_and_counts_four_characters_a_token() -> None:
    from coder.models.tokens import token_counter

    counter = token_counter()  # neither a GGUF nor an endpoint
    assert isinstance(counter, EstimatedTokenCounter) and counter.exact is False
    assert counter.count("x" * 40) == 10 and counter.count("") == 1


def test_a_server_that_tokenizes_gives_an_exact_counter(tokenize_url: str) -> None:
    from coder.models.tokens import token_counter

    counter = token_counter(None, tokenize_url)
    assert isinstance(counter, ServerTokenCounter) and counter.exact is True
    assert counter.count("abc") == 3


def test_a_dead_tokenize_endpoint_falls_back_to_the_estimate(unused_port: int) -> None:
    from coder.models.tokens import token_counter

    counter = token_counter(None, f"http://127.0.0.1:{unused_port}/v1")
    assert isinstance(counter, EstimatedTokenCounter) and counter.exact is False


def test_a_gguf_that_cannot_be_read_falls_back_when_the_counter_is_chosen(tmp_path: Path) -> None:
    """The GGUF counter built its tokenizer only on the first count, so a missing or unsupported file was never caught
    by the fallback and raised in the middle of a run instead."""
    from coder.models.tokens import token_counter

    assert isinstance(token_counter(tmp_path / "missing.gguf"), EstimatedTokenCounter)
    garbage = tmp_path / "garbage.gguf"
    garbage.write_bytes(b"not a gguf file at all")
    assert isinstance(token_counter(garbage), EstimatedTokenCounter)
