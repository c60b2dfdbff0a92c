"""`coder doctor`'s model part: the tool-call shape of every kind, render as JSON and text, diagnose against a fake
endpoint (format, context size, runtime meta) and an endpoint that is down or fails the probe call."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from coder import doctor
from coder.config import Config, load_config
from fake_openai_server import FakeOpenAIServer, completion, native_call

UNKNOWN = "unknown (the endpoint does not report it)"
USAGE = {"prompt_tokens": 120, "completion_tokens": 12, "total_tokens": 132}


@pytest.fixture
def no_docker(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-engine.sock")


@pytest.fixture
def unused_port() -> int:
    """A local port with nothing listening on it."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def small_repo(make_repo: Callable[..., Path]) -> Path:
    """A repo with no tests: the environment section is quick and says so."""
    return make_repo({"README.md": "hello\n"})


def _config(repo: Path, base_url: str) -> Config:
    return load_config(repo, {"model.provider": "openai_compat", "model.base_url": base_url, "sandbox.kind": "local"},
                       environ={})


# ---------------------------------------------------------------- classify_tool_format


@pytest.mark.parametrize("message, shape", [
    ({"content": None, "tool_calls": [native_call("c1", "view_file", {"path": "README.md"})]}, "native"),
    ({"content": 'Sure.\n<tool_call>\n{"name": "view_file", "arguments": {"path": "README.md"}}\n</tool_call>'},
     "hermes"),
    ({"content": "<tool_call>\n<function=view_file>\n<parameter=path>\nREADME.md\n</parameter>\n</function>\n"
                 "</tool_call>"}, "qwen3-xml"),
    ({"content": "<function=view_file><parameter=path>README.md</parameter></function>"}, "qwen3-xml"),
    ({"content": 'Calling:\n```json\n{"name": "view_file", "arguments": {"path": "README.md"}}\n```'}, "fenced-json"),
    ({"content": '```\n{"name": "view_file"}\n```'}, "fenced-json"),
    ({"content": 'I will call {"name": "view_file", "arguments": {"path": "README.md"}} now'}, "bare-json"),
    ({"content": "I would read README.md, but I do not know how."}, "none"),
    ({"content": None}, "none"),
    ({"content": "", "tool_calls": []}, "none"),
])
def test_classify_tool_format(message: dict[str, Any], shape: str) -> None:
    assert doctor.classify_tool_format(message) == shape


def test_native_tool_calls_win_over_text_in_the_content() -> None:
    message = {"content": "<tool_call>{}</tool_call>", "tool_calls": [native_call("c1", "view_file", {})]}
    assert doctor.classify_tool_format(message) == "native"


# ---------------------------------------------------------------- render

REPORT: dict[str, Any] = {
    "provider": "openai_compat",
    "endpoint": "http://127.0.0.1:1/v1",
    "context_tokens": 4096,
    "docker": {"reachable": False, "detail": "no engine"},
    "environment": {"languages": ["python"], "test_runner": "pytest"},
}


def test_render_as_json_is_the_report() -> None:
    text = doctor.render(REPORT, as_json=True)
    assert json.loads(text) == REPORT
    assert text.startswith("{\n  ")  # indented for people, too


def test_render_as_text_aligns_keys_and_nests_the_environment() -> None:
    lines = doctor.render(REPORT, as_json=False).splitlines()
    assert lines[0] == f"{'provider':>32}: openai_compat"
    assert f"{'context tokens':>32}: 4096" in lines  # underscores read as spaces
    assert f"{'docker':>32}: reachable=False, detail=no engine" in lines  # a flat dict on one line
    at = lines.index(f"{'environment':>32}:")
    # nested under its heading: its keys aligned two columns further in, lists joined
    assert lines[at + 1:] == [f"{'languages':>34}: python", f"{'test runner':>34}: pytest"]
    assert lines[at].index(":") == 32 and lines[at + 1].index(":") == 34


# ---------------------------------------------------------------- diagnose against a fake endpoint


@pytest.fixture
def server() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer() as fake:
        yield fake


def test_diagnose_reports_endpoint_model_and_the_native_tool_call(server: FakeOpenAIServer, small_repo: Path,
                                                                 no_docker: None) -> None:
    server.reply(completion(None, tool_calls=[native_call("c1", "view_file", {"path": "README.md"})],
                            usage=USAGE, finish_reason="tool_calls"))
    said: list[str] = []
    report = doctor.diagnose(_config(small_repo, server.base_url), said.append, repo=small_repo)
    assert "probe_error" not in report
    assert report["provider"] == "openai_compat"
    assert report["endpoint"] == server.base_url and report["model"] == "qwen2.5-coder"
    assert report["tool_call_format"] == "native"
    assert report["prompt_tokens"] == 120 and report["completion_tokens"] == 12
    assert report["overall_tokens_per_second"] > 0 and report["wall_seconds"] >= 0
    assert report["context_tokens"] == UNKNOWN and report["chat_template"] == UNKNOWN
    assert "threads" not in report  # no runtime meta: nothing to say about it
    assert report["docker"]["reachable"] is False
    assert isinstance(report["environment"], dict)
    # the probe call: one chat request, with the view_file tool, to the configured model
    assert len(server.requests) == 1 and server.paths == ["/v1/chat/completions"]
    request = server.last
    assert request["model"] == "qwen2.5-coder" and request["max_tokens"] == 96
    assert [t["function"]["name"] for t in request["tools"]] == ["view_file"]
    assert request["top_k"] == 20 and request["repetition_penalty"] == 1.05  # the preset's extras travel in the body
    json.loads(doctor.render(report, as_json=True))  # the whole report is JSON-ready
    assert f"{'tool call format':>32}: native" in doctor.render(report, as_json=False)


def test_diagnose_reports_a_text_tool_call_shape(server: FakeOpenAIServer, small_repo: Path, no_docker: None) -> None:
    server.reply(completion('<tool_call>\n{"name": "view_file", "arguments": {"path": "README.md"}}\n</tool_call>'))
    report = doctor.diagnose(_config(small_repo, server.base_url), repo=small_repo)
    assert report["tool_call_format"] == "hermes"


def test_diagnose_reports_the_runtime_meta_and_llama_cpp_timings(small_repo: Path, no_docker: None) -> None:
    meta = {"n_ctx": 4096, "threads": 6, "grammar": True, "chat_template": "T" * 200}
    timings = {"prompt_n": 100, "prompt_ms": 500.0, "predicted_n": 20, "predicted_ms": 1000.0}
    with FakeOpenAIServer(meta=meta, tokenize=True) as fake:
        fake.reply(completion(None, tool_calls=[native_call("c1", "view_file", {"path": "README.md"})],
                              usage=USAGE, timings=timings))
        report = doctor.diagnose(_config(small_repo, fake.base_url), repo=small_repo)
    assert "probe_error" not in report
    assert report["context_tokens"] == 4096
    assert report["chat_template"] == "T" * 120 + "…"
    assert report["threads"] == 6 and report["grammar_constrained_tool_calls"] is True
    assert report["prefill_tokens_per_second"] == 200.0 and report["decode_tokens_per_second"] == 20.0
    assert "overall_tokens_per_second" not in report


def test_diagnose_reads_the_context_size_from_llama_cpp_props(small_repo: Path, no_docker: None) -> None:
    props = {"default_generation_settings": {"n_ctx": 8192}, "chat_template": "{% for m in messages %}"}
    with FakeOpenAIServer(props=props, tokenize=True) as fake:
        fake.reply(completion("no tool call here"))
        report = doctor.diagnose(_config(small_repo, fake.base_url), repo=small_repo)
    assert report["context_tokens"] == 8192
    assert report["chat_template"] == "{% for m in messages %}…"
    assert report["tool_call_format"] == "none"
    assert "threads" not in report  # /props is llama.cpp's: no runtime meta


def test_a_probe_call_that_fails_is_reported_with_what_was_found(server: FakeOpenAIServer, small_repo: Path,
                                                                no_docker: None) -> None:
    server.error(500, "the model crashed")
    report = doctor.diagnose(_config(small_repo, server.base_url), repo=small_repo)
    assert "the model crashed" in report["probe_error"]
    assert report["endpoint"] == server.base_url and report["context_tokens"] == UNKNOWN
    assert "tool_call_format" not in report
    assert isinstance(report["environment"], dict) and "docker" in report


def test_an_endpoint_that_is_down_is_reported_not_raised(unused_port: int, small_repo: Path,
                                                         no_docker: None) -> None:
    url = f"http://127.0.0.1:{unused_port}/v1"
    report = doctor.diagnose(_config(small_repo, url), repo=small_repo)
    assert report["probe_error"].startswith(f"cannot reach model endpoint {url}")
    assert "endpoint" not in report and "tool_call_format" not in report  # nothing was learned from it
    assert report["provider"] == "openai_compat" and report["docker"]["reachable"] is False
    text = doctor.render(report, as_json=False)
    assert f"{'probe error':>32}: " in text
