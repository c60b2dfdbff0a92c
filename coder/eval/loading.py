"""Load an eval's tasks: task directories (tasks/ format) and SWE-bench JSONL files, with unique ids."""

from __future__ import annotations

from pathlib import Path

from .swebench import load_instances
from .tasks import EvalTask, from_task_dir
from .taskspec import TaskSpecError, task_dirs


def load_tasks(paths: list[Path], swe_repos: Path | None = None) -> list[EvalTask]:
    """Tasks from directories (a tasks/ root or one task dir) and SWE-bench JSONL files; ids must be unique."""
    tasks: list[EvalTask] = []
    for path in paths:
        if path.is_dir():
            dirs = task_dirs(path)
            if not dirs:
                raise TaskSpecError(f"{path}: no task directories (each needs a task.yaml)")
            tasks += [from_task_dir(d) for d in dirs]
        elif path.is_file():
            tasks += load_instances(path, swe_repos)
        else:
            raise TaskSpecError(f"{path}: no such file or directory")
    seen: dict[str, str] = {}
    for task in tasks:
        if task.id in seen:
            raise TaskSpecError(f"task id {task.id!r} appears twice ({seen[task.id]} and {task.source})")
        seen[task.id] = task.source
    return tasks
