"""What an endpoint says about itself: the context window from /v1/models meta or llama.cpp's /props, else None."""

from __future__ import annotations

from typing import Any

import openai
import pytest

from coder.models.endpoint_info import endpoint_context_window, model_meta, server_props
from fake_openai_server import FakeOpenAIServer

NAME = "qwen2.5-coder"


def _client(base_url: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=base_url, api_key="none", timeout=10, max_retries=0)


def test_window_from_the_runtime_meta_in_models() -> None:
    with FakeOpenAIServer(meta={"n_ctx": 4096, "threads": 4, "chat_template": "{{ x }}"}) as fake:
        assert endpoint_context_window(fake.base_url, NAME) == 4096
        assert "/props" not in fake.gets  # the meta answered: /props is not asked


def test_window_from_llama_cpp_props() -> None:
    with FakeOpenAIServer(props={"default_generation_settings": {"n_ctx": 8192}, "chat_template": "t"}) as fake:
        assert endpoint_context_window(fake.base_url, NAME) == 8192
        assert fake.gets[-1] == "/props"


def test_meta_wins_over_props() -> None:
    with FakeOpenAIServer(meta={"n_ctx": 4096}, props={"default_generation_settings": {"n_ctx": 8192}}) as fake:
        assert endpoint_context_window(fake.base_url, NAME) == 4096


def test_meta_of_another_model_is_not_used() -> None:
    with FakeOpenAIServer(models=["other-model"], meta={"n_ctx": 4096}) as fake:
        assert endpoint_context_window(fake.base_url, NAME) is None
        assert model_meta(_client(fake.base_url), "other-model") == {"n_ctx": 4096}


def test_none_when_the_endpoint_reports_nothing() -> None:
    with FakeOpenAIServer() as fake:
        assert endpoint_context_window(fake.base_url, NAME) is None
        assert fake.gets == ["/v1/models", "/props"]
        assert fake.requests == []  # asking costs no chat completion


@pytest.mark.parametrize("n_ctx", [0, -1, "4096", 4096.0, None, [4096]])
def test_none_for_a_value_that_is_not_a_positive_int(n_ctx: Any) -> None:
    with FakeOpenAIServer(props={"default_generation_settings": {"n_ctx": n_ctx}}) as fake:
        assert endpoint_context_window(fake.base_url, NAME) is None


@pytest.mark.parametrize("n_ctx", [0, -5, "big"])
def test_none_for_a_bad_value_in_meta(n_ctx: Any) -> None:
    with FakeOpenAIServer(meta={"n_ctx": n_ctx}) as fake:
        assert endpoint_context_window(fake.base_url, NAME) is None


def test_none_when_the_endpoint_is_down(unused_port: int) -> None:
    assert endpoint_context_window(f"http://127.0.0.1:{unused_port}/v1", NAME) is None


def test_server_props_reads_the_root_not_the_v1_path() -> None:
    props = {"default_generation_settings": {"n_ctx": 2048}, "chat_template": "{% for m in messages %}"}
    with FakeOpenAIServer(props=props) as fake:
        assert server_props(fake.base_url) == props
        assert fake.gets == ["/props"]


def test_server_props_is_empty_on_a_404_or_a_dead_endpoint(unused_port: int) -> None:
    with FakeOpenAIServer() as fake:
        assert server_props(fake.base_url) == {}
    assert server_props(f"http://127.0.0.1:{unused_port}/v1") == {}


def test_server_props_that_is_not_an_object_is_empty() -> None:
    with FakeOpenAIServer(props=[1, 2]) as fake:  # type: ignore[arg-type]
        assert server_props(fake.base_url) == {}


def test_model_meta_is_a_copy_and_empty_without_meta_or_endpoint(unused_port: int) -> None:
    meta = {"n_ctx": 4096, "threads": 8, "grammar": True}
    with FakeOpenAIServer(meta=meta) as fake:
        got = model_meta(_client(fake.base_url), NAME)
        assert got == meta
        got["n_ctx"] = 1
        assert model_meta(_client(fake.base_url), NAME)["n_ctx"] == 4096
    with FakeOpenAIServer() as fake:
        assert model_meta(_client(fake.base_url), NAME) == {}
    assert model_meta(_client(f"http://127.0.0.1:{unused_port}/v1"), NAME) == {}
