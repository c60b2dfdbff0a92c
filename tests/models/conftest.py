"""Fixtures for the model-layer tests: a scripted OpenAI-compatible server and models pointed at it."""

from __future__ import annotations

import socket
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

_HERE = Path(__file__).resolve().parent
for _p in (str(_HERE), str(_HERE.parents[1])):  # the fake server module; the repo root (before `pip install -e`)
    if _p not in sys.path:
        sys.path.insert(0, _p)

from coder.models.config import ModelConfig  # noqa: E402
from coder.models.openai_compat import OpenAICompatModel  # noqa: E402
from fake_openai_server import FakeOpenAIServer  # noqa: E402


@pytest.fixture
def server() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer() as fake:
        yield fake


@pytest.fixture
def make_model(server: FakeOpenAIServer) -> Iterator[Callable[..., OpenAICompatModel]]:
    """Build an OpenAICompatModel aimed at the fake server; keyword arguments override ModelConfig fields."""
    made: list[OpenAICompatModel] = []

    def make(**overrides: Any) -> OpenAICompatModel:
        fields: dict[str, Any] = {"base_url": server.base_url, "max_retries": 0, "timeout": 10.0}
        fields.update(overrides)
        model = OpenAICompatModel(ModelConfig(**fields))
        made.append(model)
        return model

    yield make
    for model in made:
        model.close()


@pytest.fixture
def unused_port() -> int:
    """A local port with nothing listening on it."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
