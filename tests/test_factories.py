"""The sandbox factory: before a Docker run starts, containers whose coder process is gone are removed, and only those."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest

from coder import factories
from coder.config import SandboxConfig
from coder.sandboxes.docker_image import LABEL
from coder.sandboxes.owner import HOST, PID, owner_labels


def _gone_pid() -> str:
    return subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True).stdout.strip()


class FakeContainer:
    def __init__(self, name: str, labels: dict[str, str], engine: "FakeEngine") -> None:
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
