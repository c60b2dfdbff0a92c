"""The strategy seam: what a strategy is given, what it must do, and the map from config names to strategies.

A strategy runs the turns of a session: it is given the model, the open sandbox, the config, the tools, the approver
and the trajectory, and yields events. A second strategy is one new module plus its name in `agent.strategy` and in
STRATEGIES below (imported lazily, so a strategy's dependencies load only when it is chosen)."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from coder_tools.base import ToolSpec

from ..config import Config
from ..events import Event
from ..models.base import Model
from ..sandboxes.base import SandboxSession
from ..task import Task
from ..trajectory import TrajectoryWriter
from .approval import Approver
from .state import RunState

STRATEGIES: dict[str, str] = {"tools": "coder.agent.loop:ToolLoop", "guided": "coder.agent.guided:GuidedRepair"}
SMALL_MODEL_PARAMS_B = 3.0  # "auto" picks guided for the bundled runtime's models this size or smaller


@dataclass(frozen=True)
class StrategyContext:
    """Everything a strategy may use; it never sees the Agent or the session."""

    task: Task
    model: Model
    sandbox: SandboxSession
    config: Config
    tools: dict[str, ToolSpec[Any]]
    approver: Approver | None
    trajectory: TrajectoryWriter


class Strategy(Protocol):
    """Runs a session's turns in its sandbox.

    begin() prepares the first turn (BASELINE: one line about the tests before any change, or None); follow_up() adds
    the user's next message; turn() works until the turn ends, yielding events and setting state.final when it ran
    the final tests itself. A turn ends by returning or by raising state.Stop (with a status); the session then runs
    the final tests (unless the turn did, or was interrupted) and takes the patch. ModelError, SandboxError and
    KeyboardInterrupt end the run with the matching status."""

    def begin(self, baseline: str | None) -> None: ...

    def follow_up(self, text: str) -> None: ...

    def turn(self, state: RunState) -> Iterator[Event]: ...


def auto_strategy(context: StrategyContext) -> str:
    """What "auto" means for this run: guided for the bundled runtime's models of 3B parameters or fewer (the registry
    knows their size), tools for everything else (an endpoint's model, a GGUF file the registry does not know)."""
    if context.config.model.provider != "local":
        return "tools"
    from ..runtime import registry

    try:
        entry = registry.get(context.model.name)
    except registry.UnknownModelError:
        return "tools"
    return "guided" if entry.params_b <= SMALL_MODEL_PARAMS_B else "tools"


def make_strategy(name: str, context: StrategyContext) -> Strategy:
    """The strategy configured as NAME ("auto": see auto_strategy), built on CONTEXT."""
    if name == "auto":
        name = auto_strategy(context)
    try:
        module, _, attribute = STRATEGIES[name].partition(":")
    except KeyError:
        raise ValueError(f"unknown agent strategy {name!r}; known: {', '.join(STRATEGIES)}") from None
    factory: Any = getattr(importlib.import_module(module), attribute)
    strategy: Strategy = factory(context)
    return strategy
