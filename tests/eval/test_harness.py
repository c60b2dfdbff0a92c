"""The coder harness's event tally: steps, malformed calls and the final event, and nothing else."""

from __future__ import annotations

import pytest

from coder.eval.harness import EventTally
from coder.events import EVENT_TYPES
from test_trajectory import SAMPLES


def tally_of(*names: str) -> tuple[list[int], EventTally]:
    steps: list[int] = []
    tally = EventTally(steps.append)
    for name in names:
        tally(SAMPLES[name])
    return steps, tally


@pytest.mark.parametrize("name", sorted(EVENT_TYPES))
def test_the_tally_changes_exactly_for_the_declared_types(name: str) -> None:
    steps, tally = tally_of(name)
    changed = bool(steps) or tally.malformed != 0 or tally.candidates != 0 or tally.final is not None
    assert changed == (name in EventTally.handled_types), name


def test_the_tally_counts() -> None:
    assert EventTally.handled_types <= set(EVENT_TYPES)
    steps, tally = tally_of(*SAMPLES)
    assert steps == [SAMPLES["model_replied"].step]  # type: ignore[union-attr]
    assert tally.malformed == 1 and tally.candidates == 1 and tally.final is SAMPLES["run_finished"]


def test_each_run_of_a_task_samples_with_seeds_of_its_own() -> None:
    """`--runs N` must sample N times: with the same seeds, guided runs of one task replay each other exactly."""
    from coder.config import Config
    from coder.eval.harness import run_config

    config = Config.model_validate({"guided": {"seed": 5, "candidates": 4}})
    assert run_config(config, 0) is config
    second = run_config(config, 2)
    assert second.guided.seed == 7 and second.guided.candidates == 4 and config.guided.seed == 5
    assert second.model_dump(exclude={"guided"}) == config.model_dump(exclude={"guided"})
