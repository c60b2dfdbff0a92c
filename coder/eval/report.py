"""The eval's outputs besides results.jsonl: summary.md (per configuration, then per task), plot.png and SWE-bench
predictions per configuration."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from statistics import mean

from .jobs import EvalConfig
from .results import RunRecord
from .swebench import write_predictions
from .tasks import EvalTask


@dataclass(frozen=True)
class ConfigSummary:
    config: str
    planned: int
    recorded: int
    resolved: int
    errors: int
    mean_steps: float
    mean_prompt_tokens: float
    mean_completion_tokens: float
    mean_cached_tokens: float
    mean_wall: float
    total_wall: float
    malformed: int
    mean_candidates: float = 0.0  # candidate repairs per run (the guided strategy; 0 for the tool loop)

    @property
    def rate(self) -> float:
        return self.resolved / self.planned if self.planned else 0.0


def summarize(config: str, records: Sequence[RunRecord], planned: int) -> ConfigSummary:
    ok = [r for r in records if r.error is None] or list(records)

    def avg(values: list[float]) -> float:
        return round(mean(values), 1) if values else 0.0

    return ConfigSummary(
        config, planned, len(records), sum(r.resolved for r in records), sum(r.error is not None for r in records),
        avg([r.steps for r in ok]), avg([r.prompt_tokens for r in ok]), avg([r.completion_tokens for r in ok]),
        avg([r.cached_tokens for r in ok]), avg([r.wall_seconds for r in ok]),
        round(sum(r.wall_seconds for r in records), 1), sum(r.malformed_calls for r in records),
        avg([r.candidates for r in ok]))


def _tokens(n: float) -> str:
    return f"{n / 1000:.1f}k" if n >= 1000 else f"{n:.0f}"


def summary_table(summaries: Sequence[ConfigSummary]) -> str:
    lines = ["| configuration | resolved | rate | mean steps | mean prompt tok | mean completion tok | mean cached tok "
             "| mean wall s | total wall s | malformed calls | errors | mean candidates |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for s in summaries:
        missing = s.planned - s.recorded
        resolved = f"{s.resolved}/{s.planned}" + (f" ({missing} not run)" if missing else "")
        lines.append(f"| {s.config} | {resolved} | {s.rate:.0%} | {s.mean_steps:g} | {_tokens(s.mean_prompt_tokens)} "
                     f"| {_tokens(s.mean_completion_tokens)} | {_tokens(s.mean_cached_tokens)} | {s.mean_wall:.1f} "
                     f"| {s.total_wall:.1f} | {s.malformed} | {s.errors} | {s.mean_candidates:g} |")
    return "\n".join(lines)


def _cell(records: Sequence[RunRecord], runs: int) -> str:
    if not records:
        return "–"
    if runs == 1:
        r = records[0]
        mark = "✓" if r.resolved else ("error" if r.error else "✗")
        return f"{mark} {r.steps} steps, {r.wall_seconds:.0f}s"
    return f"{sum(r.resolved for r in records)}/{runs}" + (f" ({sum(r.error is not None for r in records)} errors)"
                                                          if any(r.error for r in records) else "")


def task_table(tasks: Sequence[EvalTask], configs: Sequence[str], records: Sequence[RunRecord], runs: int) -> str:
    by: dict[tuple[str, str], list[RunRecord]] = {}
    for r in records:
        by.setdefault((r.config, r.task), []).append(r)
    lines = ["| task | language | difficulty | " + " | ".join(configs) + " |",
             "|---|---|---|" + "---|" * len(configs)]
    for task in tasks:
        cells = [_cell(sorted(by.get((c, task.id), []), key=lambda r: r.run), runs) for c in configs]
        lines.append(f"| {task.id} | {task.language} | {task.difficulty or ''} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def markdown(tasks: Sequence[EvalTask], configs: Sequence[EvalConfig], records: Sequence[RunRecord], runs: int,
             notes: Sequence[str] = ()) -> str:
    keys = [c.key for c in configs]
    planned = len(tasks) * runs
    summaries = [summarize(k, [r for r in records if r.config == k], planned) for k in keys]
    parts = ["# coder eval", "",
             f"{len(tasks)} task(s) x {runs} run(s) per configuration. Resolved: every fail->pass test passes and every "
             "pass->pass test still passes, checked in a fresh sandbox on the run's final patch. Token and step "
             "means are per run (runs that hit an infrastructure error excluded).", "",
             summary_table(summaries), "", "## Per task", "", task_table(tasks, keys, records, runs)]
    errors = [r for r in records if r.error]
    if errors:
        parts += ["", "## Errors", ""] + [f"- {r.config} {r.task}#{r.run}: {r.error}" for r in errors[:50]]
    if notes:
        parts += ["", *notes]
    return "\n".join(parts) + "\n"


def write_reports(out: Path, tasks: Sequence[EvalTask], configs: Sequence[EvalConfig], records: Sequence[RunRecord],
                  runs: int) -> dict[str, Path]:
    """summary.md, plot.png (when matplotlib is installed) and predictions/<config>.jsonl; returns what was written."""
    from .plot import PlotUnavailable, plot_resolved_vs_time

    out.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    notes: list[str] = []
    try:
        written["plot"] = plot_resolved_vs_time(out / "plot.png", [c.key for c in configs], records, runs,
                                                 len(tasks))
        notes.append("![resolved tasks vs wall time](plot.png)")
    except PlotUnavailable as exc:
        notes.append(f"(no plot: {exc})")
    summary = out / "summary.md"
    summary.write_text(markdown(tasks, configs, records, runs, notes), encoding="utf-8")
    written["summary"] = summary
    for config in configs:
        for run in range(runs):
            chosen = [r for r in records if r.config == config.key and r.run == run and r.error is None]
            if chosen:
                name = f"{config.slug}.jsonl" if run == 0 else f"{config.slug}.run{run}.jsonl"
                write_predictions(out / "predictions" / name, chosen)
                written.setdefault("predictions", out / "predictions")
    return written
