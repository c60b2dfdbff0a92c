"""The same eval on a local Ray instance: jobs run in Ray workers (checkout shipped as an archive, sandbox there),
every record lands in the driver's one results.jsonl."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

import pytest

from conftest import PAGINATOR, RecordingDisplay, solution_bodies, task
from fake_openai_server import FakeOpenAIServer

ray = pytest.importorskip("ray", reason="Ray is the optional `ray` extra")

from coder.eval.plan import EvalPlan  # noqa: E402
from coder.eval.runner import Evaluation  # noqa: E402
from coder.models.config import ModelConfig  # noqa: E402

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def local_ray() -> Iterator[None]:
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def test_eval_on_ray_collects_every_record_on_the_driver(local_ray: None, make_plan: Callable[..., EvalPlan]) -> None:
    with FakeOpenAIServer(models=["fake"]) as server:
        server.queue += solution_bodies(PAGINATOR)
        model = ModelConfig(base_url=server.base_url, name="fake", max_retries=0, timeout=60)
        plan = make_plan([task(PAGINATOR)], models=[model], harnesses=["coder", "gold"], model_factory=None,
                         ray=True, workers=2)
        outcome = Evaluation(plan, RecordingDisplay()).run()
    assert ray.is_initialized(), "an instance the caller started is left running"
    assert [(r.config, r.resolved, r.error) for r in outcome.records] == [
        ("coder/fake", True, None), ("gold/reference", True, None)]
    assert outcome.records[0].prompt_tokens == 50 * len(solution_bodies(PAGINATOR))
    lines = [json.loads(line) for line in (plan.out / "results.jsonl").read_text().splitlines()]
    assert sorted(r["config"] for r in lines) == ["coder/fake", "gold/reference"]
