"""Undecodable bytes (surrogateescape code points) in the history reach the model as U+FFFD, not as a crash."""

from __future__ import annotations

from collections.abc import Callable

from coder.models.base import Message, ToolCall
from coder.models.openai_compat import OpenAICompatModel
from fake_openai_server import FakeOpenAIServer, completion, text_stream

MakeModel = Callable[..., OpenAICompatModel]
HISTORY = [
    Message("system", "You fix bugs."),
    Message("user", "tests fail"),
    Message("assistant", "", tool_calls=(ToolCall("call_0", "view", {"path": "dir/\udcff.txt"}),)),
    Message("tool", "1: caf\udce9 = 1", tool_call_id="call_0", name="view"),
]


def _check_sent(server: FakeOpenAIServer) -> None:
    sent = server.last["messages"]
    assert sent[3]["content"] == "1: caf\ufffd = 1"
    assert sent[2]["tool_calls"][0]["function"]["arguments"] == '{"path": "dir/\ufffd.txt"}'
    assert not any(0xD800 <= ord(ch) <= 0xDFFF for ch in repr(server.last))


def test_surrogates_in_content_and_arguments_become_replacement_characters(
        server: FakeOpenAIServer, make_model: MakeModel) -> None:
    server.reply(completion("ok"))
    assert make_model().complete(HISTORY, []).text == "ok"
    _check_sent(server)


def test_streamed_request_with_surrogates_succeeds(server: FakeOpenAIServer, make_model: MakeModel) -> None:
    server.stream(text_stream(["o", "k"]))
    final = [d for d in make_model().stream(HISTORY, []) if d.reply is not None]
    assert final and final[0].reply is not None and final[0].reply.text == "ok"
    _check_sent(server)


def test_the_history_itself_keeps_the_exact_characters(server: FakeOpenAIServer, make_model: MakeModel) -> None:
    """Only the request is cleaned: the messages (and so the tools' bytes) are left as they were."""
    server.reply(completion("ok"))
    make_model().complete(HISTORY, [])
    assert HISTORY[3].content == "1: caf\udce9 = 1"
    assert HISTORY[2].tool_calls[0].arguments == {"path": "dir/\udcff.txt"}
