"""OpenAICompatModel with the real `openai` client against a scripted local HTTP server."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from pydantic import ValidationError

from coder.models.base import Message, Model, ModelError, Usage
from coder.models.config import ModelConfig
from coder.models.openai_compat import OpenAICompatModel
from fake_openai_server import FakeOpenAIServer, chunk, completion, native_call, text_stream

MakeModel = Callable[..., OpenAICompatModel]
MESSAGES = [Message("system", "You fix bugs."), Message("user", "tests fail")]
TOOLS: list[dict[str, Any]] = [
    {
        "type": "function",
        "function": {
            "name": "view",
            "description": "Show a file.",
            "parameters": {"type": "object", "properties": {"path": {"type": "string"}}, "required": ["path"]},
        },
    }
]


def test_implements_the_protocol(make_model: MakeModel) -> None:
    assert isinstance(make_model(), Model)


# ---------------------------------------------------------------- complete()


def test_plain_reply_with_usage_and_cached_tokens(server: FakeOpenAIServer, make_model: MakeModel) -> None:
    usage = {"prompt_tokens": 120, "completion_tokens": 7, "prompt_tokens_details": {"cached_tokens": 100}}
    server.reply(completion("The bug is in parse().", usage=usage))
    reply = make_model().complete(MESSAGES, [])
    assert reply.text == reply.raw == "The bug is in parse()."
    assert reply.tool_calls == () and reply.finish_reason == "stop"
    assert reply.usage == Usage(prompt_tokens=120, completion_tokens=7, cached_tokens=100)
    assert server.paths == ["/v1/chat/completions"]
    assert server.last["messages"] == [
        {"role": "system", "content": "You fix bugs."},
        {"role": "user", "content": "tests fail"},
    ]


def test_native_tool_calls(server: FakeOpenAIServer, make_model: MakeModel) -> None:
    calls = [
        native_call("abc", "view", {"path": "a.py"}),
        native_call("def", "grep", '{"pattern": "x",}'),  # repaired
        native_call("", "bad", "{oops"),  # reported, with a generated id
    ]
    server.reply(completion(None, tool_calls=calls, finish_reason="tool_calls"))
    reply = make_model().complete(MESSAGES, TOOLS)
    got = [(c.id, c.name, c.arguments, c.parse_error is None) for c in reply.tool_calls]
    assert got == [
        ("abc", "view", {"path": "a.py"}, True),
        ("def", "grep", {"pattern": "x"}, True),
        ("call_2", "bad", {}, False),
    ]
    assert reply.tool_calls[2].raw == "{oops"
    assert reply.text == "" and reply.finish_reason == "tool_calls"
    assert server.last["tools"] == TOOLS


def test_text_embedded_tool_call_is_parsed(server: FakeOpenAIServer, make_model: MakeModel) -> None:
    raw = 'Let me look.\n```json\n{"name": "view", "arguments": {"path": "a.py"}}\n```'
    server.reply(completion(raw))
    reply = make_model().complete(MESSAGES, TOOLS)
    assert reply.raw == raw
    assert reply.text == "Let me look."
    assert [(c.id, c.name, c.arguments) for c in reply.tool_calls] == [("call_0", "view", {"path": "a.py"})]


def test_history_with_tool_calls_and_results_is_sent(server: FakeOpenAIServer, make_model: MakeModel) -> None:
    from coder.models.base import ToolCall

    server.reply(completion("ok"))
    history = [*MESSAGES, Message("assistant", "", tool_calls=(ToolCall("call_0", "view", {"path": "a"}),)),
               Message("tool", "1: x = 1", tool_call_id="call_0", name="view")]
    make_model().complete(history, TOOLS)
    sent = server.last["messages"]
    assert sent[2]["tool_calls"][0]["function"] == {"name": "view", "arguments": '{"path": "a"}'}
    assert sent[3] == {"role": "tool", "content": "1: x = 1", "tool_call_id": "call_0", "name": "view"}


# ---------------------------------------------------------------- request body


def test_qwen_preset_sampling_is_sent(server: FakeOpenAIServer, make_model: MakeModel) -> None:
    server.reply(completion("hi"))
    make_model(name="qwen2.5-coder-0.5b").complete(MESSAGES, TOOLS)
    body = server.last
    assert body["model"] == "qwen2.5-coder-0.5b"
    assert (body["temperature"], body["top_p"], body["top_k"], body["repetition_penalty"]) == (0.7, 0.8, 20, 1.05)
    assert "max_tokens" not in body and "stream" not in body


def test_overrides_and_qwen3_preset(server: FakeOpenAIServer, make_model: MakeModel) -> None:
    server.reply(completion("hi"))
    make_model(preset="qwen3-coder", temperature=0.2, top_k=5, max_tokens=256).complete(MESSAGES, [])
    body = server.last
    assert (body["temperature"], body["top_p"], body["top_k"], body["repetition_penalty"]) == (0.2, 0.8, 5, 1.05)
    assert body["max_tokens"] == 256
    assert "tools" not in body  # no tools given, none sent


def test_preset_none_sends_no_sampling(server: FakeOpenAIServer, make_model: MakeModel) -> None:
    server.reply(completion("hi"))
    make_model(preset="none").complete(MESSAGES, [])
    assert not {"temperature", "top_p", "top_k", "repetition_penalty"} & set(server.last)


def test_native_tools_off_sends_no_tools(server: FakeOpenAIServer, make_model: MakeModel) -> None:
    server.reply(completion('<tool_call>{"name": "view", "arguments": {"path": "b"}}</tool_call>'))
    reply = make_model(native_tools=False).complete(MESSAGES, TOOLS)
    assert "tools" not in server.last
    assert [c.name for c in reply.tool_calls] == ["view"]


def test_allowed_tools_narrow_the_list_for_other_servers(server: FakeOpenAIServer, make_model: MakeModel) -> None:
    other = {"type": "function", "function": {**TOOLS[0]["function"], "name": "grep"}}
    server.reply(completion("hi"))
    make_model().complete(MESSAGES, [*TOOLS, other], allowed=["grep"])
    assert server.last["tools"] == [other] and "tool_choice" not in server.last


def test_allowed_tools_keep_the_list_for_the_bundled_runtime(server: FakeOpenAIServer, make_model: MakeModel) -> None:
    """The bundled runtime caches the prompt prefix (which describes every tool): it gets OpenAI's allowed_tools."""
    other = {"type": "function", "function": {**TOOLS[0]["function"], "name": "grep"}}
    server.reply(completion("hi")).reply(completion("hi"))
    model = make_model(provider="local", local_model="qwen2.5-coder-0.5b")
    model.complete(MESSAGES, [*TOOLS, other], allowed=["grep"])
    assert server.last["tools"] == [*TOOLS, other]
    assert server.last["tool_choice"] == {"type": "allowed_tools", "allowed_tools": {
        "mode": "auto", "tools": [{"type": "function", "function": {"name": "grep"}}]}}
    model.complete(MESSAGES, [*TOOLS, other])
    assert "tool_choice" not in server.last


def test_bare_function_schemas_are_wrapped(server: FakeOpenAIServer, make_model: MakeModel) -> None:
    server.reply(completion("hi"))
    make_model().complete(MESSAGES, [TOOLS[0]["function"]])
    assert server.last["tools"] == TOOLS


def test_server_rejecting_tools_falls_back_to_text_calls(server: FakeOpenAIServer, make_model: MakeModel) -> None:
    server.error(500, "tools param requires --jinja flag")
    server.reply(completion('<tool_call>{"name": "view", "arguments": {"path": "a"}}</tool_call>'))
    model = make_model()
    reply = model.complete(MESSAGES, TOOLS)
    assert "tools" in server.requests[0] and "tools" not in server.requests[1]
    assert not model.sends_tools
    assert [c.name for c in reply.tool_calls] == ["view"]


@pytest.mark.parametrize(
    "message",
    [
        "tools param requires --jinja flag",  # llama.cpp server
        '"auto" tool choice requires --enable-auto-tool-choice and --tool-call-parser to be set',  # vLLM
        "registry.ollama.ai/library/foo:latest does not support tools",  # Ollama
    ],
)
def test_known_tool_rejections_are_recognised(server: FakeOpenAIServer, make_model: MakeModel, message: str) -> None:
    server.error(400, message)
    server.reply(completion("ok"))
    assert make_model().complete(MESSAGES, TOOLS).text == "ok"
    assert "tools" not in server.last


def test_other_tool_errors_are_not_swallowed(server: FakeOpenAIServer, make_model: MakeModel) -> None:
    server.error(500, "Failed to parse tool call arguments")
    model = make_model()
    with pytest.raises(ModelError, match="HTTP 500: Failed to parse tool call"):
        model.complete(MESSAGES, TOOLS)
    assert model.sends_tools and len(server.requests) == 1


def test_api_key_placeholder_and_config_forbids_typos() -> None:
    assert OpenAICompatModel(ModelConfig())._client.api_key == "none"
    with pytest.raises(ValidationError):
        ModelConfig(temprature=0.1)  # type: ignore[call-arg]
    assert ModelConfig(top_k=3).sampling() == {"temperature": 0.7, "top_p": 0.8, "top_k": 3, "repetition_penalty": 1.05}


# ---------------------------------------------------------------- stream()


def test_stream_text_and_usage(server: FakeOpenAIServer, make_model: MakeModel) -> None:
    usage = {"prompt_tokens": 50, "completion_tokens": 3, "prompt_tokens_details": {"cached_tokens": 40}}
    server.stream(text_stream(["The ", "bug ", "is here."], usage=usage))
    deltas = list(make_model().stream(MESSAGES, []))
    assert "".join(d.text for d in deltas) == "The bug is here."
    assert all(d.reply is None for d in deltas[:-1])
    reply = deltas[-1].reply
    assert reply is not None and reply.text == reply.raw == "The bug is here."
    assert reply.usage == Usage(50, 3, 40) and reply.finish_reason == "stop"
    assert server.last["stream"] is True and server.last["stream_options"] == {"include_usage": True}
    assert server.last["top_k"] == 20


def test_stream_assembles_native_tool_call_deltas(server: FakeOpenAIServer, make_model: MakeModel) -> None:
    def tc(index: int, call_id: str | None = None, name: str | None = None, args: str | None = None) -> dict[str, Any]:
        fn = {k: v for k, v in (("name", name), ("arguments", args)) if v is not None}
        return {"index": index, **({"id": call_id, "type": "function"} if call_id else {}), "function": fn}

    server.stream([
        chunk(content="Checking."),
        chunk(tool_calls=[tc(0, "c1", "view", "")]),
        chunk(tool_calls=[tc(0, args='{"pa')]),
        chunk(tool_calls=[tc(1, "c2", "grep", '{"pattern"')]),
        chunk(tool_calls=[tc(0, args='th": "a.py"}')]),
        chunk(tool_calls=[tc(1, args=': "x"}')]),
        chunk(finish_reason="tool_calls"),
        chunk(usage={"prompt_tokens": 9, "completion_tokens": 4, "total_tokens": 13}, no_choices=True),
    ])
    deltas = list(make_model().stream(MESSAGES, TOOLS))
    reply = deltas[-1].reply
    assert reply is not None
    got = [(c.id, c.name, c.arguments) for c in reply.tool_calls]
    assert got == [("c1", "view", {"path": "a.py"}), ("c2", "grep", {"pattern": "x"})]
    assert reply.text == "Checking." and reply.finish_reason == "tool_calls"
    assert reply.usage == Usage(9, 4, 0)


def test_stream_hides_tool_call_markup_and_parses_it(server: FakeOpenAIServer, make_model: MakeModel) -> None:
    pieces = ["Let me see.", "\n<tool", '_call>\n{"name": "view", ', '"arguments": {"path": "a.py"}}\n</tool_call>']
    server.stream(text_stream(pieces))
    deltas = list(make_model().stream(MESSAGES, TOOLS))
    shown = "".join(d.text for d in deltas)
    assert "<tool" not in shown and shown.strip() == "Let me see."
    reply = deltas[-1].reply
    assert reply is not None and reply.raw == "".join(pieces)
    assert [(c.name, c.arguments) for c in reply.tool_calls] == [("view", {"path": "a.py"})]


def test_stream_llama_cpp_timings(server: FakeOpenAIServer, make_model: MakeModel) -> None:
    chunks = text_stream(["ok"])
    chunks[-1]["timings"] = {"cache_n": 30, "prompt_n": 12, "predicted_n": 2}
    server.stream(chunks)
    reply = list(make_model().stream(MESSAGES, []))[-1].reply
    assert reply is not None and reply.usage == Usage(prompt_tokens=42, completion_tokens=2, cached_tokens=30)


def test_complete_llama_cpp_usage_plus_timings(server: FakeOpenAIServer, make_model: MakeModel) -> None:
    server.reply(completion("ok", usage={"prompt_tokens": 42, "completion_tokens": 2}, timings={"cache_n": 30}))
    assert make_model().complete(MESSAGES, []).usage == Usage(42, 2, 30)
    server.reply(completion("ok", tokens_cached=17, usage={"prompt_tokens": 20, "completion_tokens": 1}))
    assert make_model().complete(MESSAGES, []).usage.cached_tokens == 17


def test_stream_error_event_becomes_model_error(server: FakeOpenAIServer, make_model: MakeModel) -> None:
    server.stream([chunk(content="par"), {"error": {"message": "context length exceeded"}}])
    with pytest.raises(ModelError, match="context length exceeded") as info:
        list(make_model().stream(MESSAGES, []))
    assert server.base_url in str(info.value)


def test_stream_without_choices_is_an_error(server: FakeOpenAIServer, make_model: MakeModel) -> None:
    server.stream([chunk(usage={"prompt_tokens": 1, "completion_tokens": 0}, no_choices=True)])
    with pytest.raises(ModelError, match="no choices"):
        list(make_model().stream(MESSAGES, []))


# ---------------------------------------------------------------- failures


def _one_line(exc: pytest.ExceptionInfo[ModelError]) -> str:
    message = str(exc.value)
    assert "\n" not in message
    return message


def test_endpoint_down(unused_port: int) -> None:
    url = f"http://127.0.0.1:{unused_port}/v1"
    model = OpenAICompatModel(ModelConfig(base_url=url, max_retries=0, timeout=5))
    with pytest.raises(ModelError) as info:
        model.complete(MESSAGES, [])
    assert _one_line(info) == f"cannot reach model endpoint {url}: connection refused — is the server running?"
    with pytest.raises(ModelError, match="connection refused"):
        list(model.stream(MESSAGES, []))
    assert not model.available()
    model.close()


def test_slow_server_times_out(server: FakeOpenAIServer, make_model: MakeModel) -> None:
    server.slow(delay=5.0)
    start = time.monotonic()
    with pytest.raises(ModelError) as info:
        make_model(timeout=0.3).complete(MESSAGES, [])
    assert time.monotonic() - start < 3
    message = _one_line(info)
    assert server.base_url in message and "timeout" in message and "0.3s" in message


@pytest.mark.parametrize("content_type", ["application/json", "text/html"])
def test_garbage_body(server: FakeOpenAIServer, make_model: MakeModel, content_type: str) -> None:
    server.garbage("<html>502 bad gateway</html>", content_type=content_type)
    with pytest.raises(ModelError) as info:
        make_model().complete(MESSAGES, [])
    message = _one_line(info)
    assert server.base_url in message and ("not JSON" in message or "not a chat completion" in message)


def test_http_500(server: FakeOpenAIServer, make_model: MakeModel) -> None:
    server.error(500, "model crashed: out of memory")
    with pytest.raises(ModelError) as info:
        make_model().complete(MESSAGES, [])
    assert _one_line(info) == f"model endpoint {server.base_url} answered HTTP 500: model crashed: out of memory"
    assert len(server.requests) == 1  # max_retries=0


def test_http_404_hints_at_base_url(server: FakeOpenAIServer, make_model: MakeModel) -> None:
    server.error(404, "model 'nope' not found")
    with pytest.raises(ModelError, match="HTTP 404.*check base_url"):
        make_model(name="nope").complete(MESSAGES, [])


def test_retries_are_bounded(server: FakeOpenAIServer, make_model: MakeModel) -> None:
    for _ in range(5):
        server.error(500, "still broken", retry_after_ms="1")
    with pytest.raises(ModelError, match="HTTP 500"):
        make_model(max_retries=2).complete(MESSAGES, [])
    assert len(server.requests) == 3


def test_retry_then_success(server: FakeOpenAIServer, make_model: MakeModel) -> None:
    server.error(503, "loading model", retry_after_ms="1")
    server.reply(completion("ready"))
    assert make_model(max_retries=1).complete(MESSAGES, []).text == "ready"


def test_empty_choices(server: FakeOpenAIServer, make_model: MakeModel) -> None:
    body = completion("x")
    body["choices"] = []
    server.reply(body)
    with pytest.raises(ModelError, match="no choices"):
        make_model().complete(MESSAGES, [])


def test_unscripted_call_fails_loudly(server: FakeOpenAIServer, make_model: MakeModel) -> None:
    with pytest.raises(ModelError, match="no scripted response left"):
        make_model().complete(MESSAGES, [])


def test_probe_lists_models(server: FakeOpenAIServer, make_model: MakeModel) -> None:
    model = make_model()
    assert model.probe() == ["qwen2.5-coder"]
    assert model.available()


def test_non_json_body_is_quoted_in_the_error(server: FakeOpenAIServer, make_model: MakeModel) -> None:
    server.garbage("upstream connect error")
    with pytest.raises(ModelError, match="not JSON: 'upstream connect error'"):
        make_model().complete(MESSAGES, [])


def test_stream_stopped_early_releases_the_connection(server: FakeOpenAIServer, make_model: MakeModel) -> None:
    server.stream(text_stream(["a", "b", "c"]))
    server.reply(completion("next"))
    model = make_model()
    deltas = model.stream(MESSAGES, [])
    assert next(deltas).text == "a"
    deltas.close()  # type: ignore[attr-defined]
    assert model.complete(MESSAGES, []).text == "next"


def test_run_deadline_bounds_the_request_and_skips_retries(server: FakeOpenAIServer) -> None:
    """A 1.5B eval run waited 3 x 120 s (timeout, then two retries) on one reply, 150 s past its 300 s limit: the
    seconds the run has left bound the request, and no retry starts after them."""
    server.slow(delay=20.0).slow(delay=20.0).slow(delay=20.0)
    model = OpenAICompatModel(ModelConfig(base_url=server.base_url, timeout=60, max_retries=2))
    for ask in (lambda: model.complete(MESSAGES, [], timeout=1.0), lambda: list(model.stream(MESSAGES, [], timeout=1.0))):
        start = time.monotonic()
        with pytest.raises(ModelError) as info:
            ask()
        assert time.monotonic() - start < 5
        assert "did not answer within the 1s the run had left" in _one_line(info)
    assert len(server.requests) == 2  # one request per call: no retries
    model.close()
