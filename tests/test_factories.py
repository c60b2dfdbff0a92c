"""The factories: build_model and open_agent against a fake endpoint, and Docker leftovers pruned before a run."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

from coder import factories
from coder.config import Config, SandboxConfig, load_config
from coder.errors import ConfigError, UsageError
from coder.models.config import ModelConfig
from coder.models.tokens import EstimatedTokenCounter, ServerTokenCounter
from coder.sandboxes.docker_image import LABEL
from coder.sandboxes.owner import HOST, PID, owner_labels
from coder.task import Task
from fake_openai_server import FakeOpenAIServer


def _gone_pid() -> str:
    return subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True).stdout.strip()


class FakeContainer:
    def __init__(self, name: str, labels: dict[str, str], engine: FakeEngine) -> None:
        self.name, self.labels, self.engine = name, labels, engine

    def remove(self, force: bool = False) -> None:
        assert force
        self.engine.removed.append(self.name)


class FakeEngine:
    """Just what the factory touches: containers.list (counted, with its filters), images.get and remove."""

    def __init__(self, containers: dict[str, dict[str, str]]) -> None:
        self.removed: list[str] = []
        self.lists: list[dict[str, Any]] = []
        self.items = [FakeContainer(name, labels, self) for name, labels in containers.items()]
        self.containers, self.images = self, self

    def list(self, all: bool = False, filters: dict[str, Any] | None = None) -> list[FakeContainer]:
        self.lists.append({"all": all, "filters": filters})
        return list(self.items)

    def get(self, image: str) -> object:
        return object()


def engine_with_every_kind() -> FakeEngine:
    gone = _gone_pid()
    return FakeEngine({
        "gone-owner": {LABEL: "1", **owner_labels(), PID: gone},
        "live-owner": {LABEL: "1", **owner_labels()},
        "other-host": {LABEL: "1", **owner_labels(), HOST: "some-other-host", PID: gone},
        "no-owner": {LABEL: "1"},  # an older coder's, or a test's: cannot be told apart from a live one
    })


def test_only_containers_of_gone_owners_are_removed_with_one_list_call() -> None:
    engine = engine_with_every_kind()
    said: list[str] = []
    assert factories.prune_leftovers(engine, said.append) == 1
    assert engine.removed == ["gone-owner"]
    assert engine.lists == [{"all": True, "filters": {"label": LABEL}}]
    assert len(said) == 1 and "removed 1 " in said[0]


def test_nothing_to_remove_says_nothing() -> None:
    engine = FakeEngine({"live-owner": {LABEL: "1", **owner_labels()}})
    said: list[str] = []
    assert factories.prune_leftovers(engine, said.append) == 0
    assert engine.removed == [] and said == []


def test_the_docker_factory_prunes_before_the_run(monkeypatch: pytest.MonkeyPatch) -> None:
    """`coder fix`, the TUI and the Action get their Docker sandbox here."""
    from coder.sandboxes import docker

    engine = engine_with_every_kind()
    monkeypatch.setattr(docker, "docker_client", lambda *a, **k: engine)
    said: list[str] = []
    sandbox, warning = factories.choose_sandbox(SandboxConfig(kind="docker", image="coder-sandbox:test"),
                                                progress=said.append)
    assert sandbox.name == "docker" and warning is None
    assert engine.removed == ["gone-owner"] and len(said) == 1


# ---------------------------------------------------------------- build_model and open_agent against a fake endpoint


@pytest.fixture
def unused_port() -> int:
    """A local port with nothing listening on it."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _remote(base_url: str) -> ModelConfig:
    return ModelConfig(provider="openai_compat", base_url=base_url, max_retries=0, timeout=10.0)


def test_build_model_takes_the_window_the_endpoint_reports_with_a_counter_for_it() -> None:
    with FakeOpenAIServer(meta={"n_ctx": 4096}, tokenize=True) as fake:
        model = factories.build_model(_remote(fake.base_url))
        try:
            assert model.context_window == 4096
            assert isinstance(model.token_counter, ServerTokenCounter) and model.token_counter.exact is True
            assert model.token_counter.count("abcd") == 4  # counted by the endpoint
            assert model.config.base_url == fake.base_url and model.name == "qwen2.5-coder"
            assert "context_window" not in vars(model) and "token_counter" not in vars(model)  # given, not patched in
        finally:
            model.close()
        assert fake.requests == []  # building a model asks no chat completion


def test_build_model_without_a_tokenizer_on_the_endpoint_estimates() -> None:
    with FakeOpenAIServer(props={"default_generation_settings": {"n_ctx": 8192}}) as fake:
        fake.reply({"error": "unused"})  # a /tokenize without tokenize=True takes a scripted reply: not a token list
        model = factories.build_model(_remote(fake.base_url))
        model.close()
    assert model.context_window == 8192
    assert isinstance(model.token_counter, EstimatedTokenCounter) and model.token_counter.exact is False


def test_build_model_without_a_reported_window_has_neither() -> None:
    with FakeOpenAIServer(tokenize=True) as fake:
        model = factories.build_model(_remote(fake.base_url))
        model.close()
        assert fake.tokenized == []  # no window: no counter is even tried
        assert fake.gets == ["/v1/models", "/v1/models", "/props"]  # the probe, then the window (both places)
    assert model.context_window is None and model.token_counter is None
    assert "context_window" not in vars(model)


def test_build_model_probe_of_a_dead_endpoint_is_a_config_error(unused_port: int) -> None:
    url = f"http://127.0.0.1:{unused_port}/v1"
    with pytest.raises(ConfigError, match=f"cannot reach model endpoint {url}"):
        factories.build_model(_remote(url), probe=True)


def test_build_model_without_probe_does_not_raise_for_a_dead_endpoint(unused_port: int) -> None:
    model = factories.build_model(_remote(f"http://127.0.0.1:{unused_port}/v1"), probe=False)
    model.close()
    assert model.context_window is None and model.token_counter is None


@pytest.fixture
def fake() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer(meta={"n_ctx": 4096}, tokenize=True) as server:
        yield server


def _local_config(repo: Path, base_url: str) -> Config:
    return load_config(repo, {"model.provider": "openai_compat", "model.base_url": base_url,
                              "model.max_retries": 0, "sandbox.kind": "local"}, environ={})


def test_open_agent_with_a_task_opens_the_sandbox_and_judges_the_baseline(fake: FakeOpenAIServer,
                                                                          buggy_repo: Path) -> None:
    from coder.agent import Agent
    from coder.sandboxes.local import LocalSandbox

    said: list[str] = []
    warned: list[str] = []
    with ExitStack() as stack:
        opened = factories.open_agent(_local_config(buggy_repo, fake.base_url), buggy_repo, stack,
                                      task=Task(buggy_repo), progress=said.append, warn=warned.append)
        assert isinstance(opened, factories.OpenedAgent) and opened.warning is None and warned == []
        assert isinstance(opened.agent, Agent) and isinstance(opened.agent.sandbox, LocalSandbox)
        model = opened.agent.model
        assert model.config.base_url == fake.base_url  # type: ignore[attr-defined]
        assert model.context_window == 4096 and model.token_counter is not None
        checked = opened.checked
        assert checked is not None and checked.problem is None and checked.baseline is not None
        assert checked.baseline.data["failed"] == 1 and checked.baseline.data["passed"] == 1
        assert said and said[0] == LocalSandbox().describe(buggy_repo)  # which interpreter runs the tests
    assert fake.requests == [] and fake.tokenized == ["probe"]  # the token counter's probe, no chat request yet


def test_open_agent_without_a_task_opens_no_sandbox(fake: FakeOpenAIServer, buggy_repo: Path) -> None:
    with ExitStack() as stack:
        opened = factories.open_agent(_local_config(buggy_repo, fake.base_url), buggy_repo, stack)
        assert opened.checked is None and opened.agent.model.context_window == 4096


def test_tests_that_cannot_run_refuse_before_the_model_is_asked(fake: FakeOpenAIServer,
                                                                make_repo: Callable[..., Path]) -> None:
    repo = make_repo({"README.md": "no tests here\n"})
    with ExitStack() as stack:
        with pytest.raises(UsageError, match="no test runner was detected"):
            factories.open_agent(_local_config(repo, fake.base_url), repo, stack, task=Task(repo))
    assert fake.gets == [] and fake.requests == []  # the model endpoint heard nothing at all


def test_a_dead_model_after_a_good_sandbox_is_a_config_error(buggy_repo: Path, unused_port: int) -> None:
    with ExitStack() as stack:
        with pytest.raises(ConfigError, match="cannot reach model endpoint"):
            factories.open_agent(_local_config(buggy_repo, f"http://127.0.0.1:{unused_port}/v1"), buggy_repo, stack,
                                 task=Task(buggy_repo))
