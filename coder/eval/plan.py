"""The eval plan (what one `coder eval` runs) and the harness factory; the runner and the Ray backend both read it."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..config import AgentConfig, Config
from ..models.config import ModelConfig
from .endpoint import Endpoint, model_label
from .harness import CoderHarness, GoldHarness, Harness, ModelFactory, RunLimits
from .jobs import EvalConfig
from .sandboxing import SandboxPlan
from .tasks import EvalTask

HARNESSES = ("coder", "mini-swe-agent", "gold")


@dataclass
class EvalPlan:
    """Everything one `coder eval` needs. models: one entry per model (None: model_factory, for tests); strategies:
    one coder configuration per entry (None: the configuration's agent.strategy)."""

    tasks: list[EvalTask]
    out: Path
    config: Config
    sandbox: SandboxPlan
    models: list[ModelConfig | None] = field(default_factory=lambda: [None])
    harnesses: list[str] = field(default_factory=lambda: ["coder"])
    strategies: list[str | None] = field(default_factory=lambda: [None])
    limits: RunLimits = field(default_factory=RunLimits)
    runs: int = 1
    workers: int = 1
    redo: bool = False
    model_factory: ModelFactory | None = None
    model_name: str = "scripted"
    mini_config: str = "mini"
    grade_timeout: float = 300.0
    ray: bool = False
    ray_address: str | None = None

    def label(self, model: ModelConfig | None) -> str:
        return model_label(model) if model is not None else self.model_name

    def configs(self, model: ModelConfig | None) -> list[EvalConfig]:
        """The configurations that run on MODEL: coder once per strategy, each other harness once."""
        configs = []
        for h in self.harnesses:
            if h == "coder":
                configs += [EvalConfig(h, self.label(model), s) for s in self.strategies]
            else:
                configs.append(EvalConfig(h, "reference" if h == "gold" else self.label(model)))
        return configs

    def all_configs(self) -> list[EvalConfig]:
        return list(dict.fromkeys(c for m in self.models for c in self.configs(m)))


def make_harness(config: EvalConfig, plan: EvalPlan, endpoint: Endpoint | None, trajectory_dir: Path) -> Harness:
    name = config.harness
    if name == "coder":
        agent = plan.config.agent
        if config.strategy is not None:
            agent = AgentConfig.model_validate({**agent.model_dump(), "strategy": config.strategy})
        return CoderHarness(plan.config.model_copy(update={"agent": agent}), endpoint, trajectory_dir,
                            plan.model_factory)
    if name == "gold":
        return GoldHarness()
    from .mini_swe import MiniSweAgentHarness

    assert endpoint is not None, "mini-swe-agent needs a model endpoint"
    return MiniSweAgentHarness(endpoint, plan.limits, trajectory_dir, plan.mini_config)
