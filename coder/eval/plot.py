"""plot.png: resolved tasks against wall time, one curve per configuration (matplotlib, Agg backend, no display)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from .results import RunRecord


class PlotUnavailable(Exception):
    """matplotlib is not installed (it comes with the `eval` extra)."""


def curve(records: Sequence[RunRecord], runs: int) -> tuple[list[float], list[float]]:
    """Step curve points: after t seconds of a run, how many tasks (averaged over runs) were resolved within t."""
    times = sorted(r.wall_seconds for r in records if r.resolved)
    xs, ys = [0.0], [0.0]
    for i, t in enumerate(times, 1):
        xs += [t, t]
        ys += [ys[-1], i / max(1, runs)]
    longest = max((r.wall_seconds for r in records), default=0.0)
    xs.append(max(longest, xs[-1]))
    ys.append(ys[-1])
    return xs, ys


def plot_resolved_vs_time(path: Path, configs: Sequence[str], records: Sequence[RunRecord], runs: int,
                          tasks: int | None = None) -> Path:
    """The plot; the y axis runs to TASKS (the number of tasks) so a curve reads as a share of the whole set."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise PlotUnavailable("matplotlib is not installed; pip install 'coder-agent[eval]'") from exc
    fig, ax = plt.subplots(figsize=(7.5, 4.5), dpi=120)
    try:
        for config in configs:
            mine = [r for r in records if r.config == config]
            xs, ys = curve(mine, runs)
            ax.plot(xs, ys, label=f"{config} ({ys[-1]:g} resolved)", linewidth=2)
        ax.set_xlabel("wall time per task (s)")
        ax.set_ylabel("tasks resolved within that time")
        ax.set_title("Resolved tasks vs wall time" + (f" ({tasks} tasks)" if tasks else ""))
        ax.grid(True, alpha=0.3)
        ax.set_ylim(0, max(1, tasks or 0, *(max(curve([r for r in records if r.config == c], runs)[1]) for c in configs)))
        if runs == 1:
            from matplotlib.ticker import MaxNLocator

            ax.yaxis.set_major_locator(MaxNLocator(integer=True))  # whole tasks, not 0.01 steps
        ax.set_xlim(left=0)
        if configs:
            ax.legend(loc="lower right", fontsize=8)
        fig.tight_layout()
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, format="png")
    finally:
        plt.close(fig)
    return path
