"""Build jobs from a parsed config mapping: {"jobs": {name: {"every": ..., "timeout": ...}}}."""

from __future__ import annotations

from typing import Any, Dict, List

from .durations import parse_duration
from .schedule import Job


class JobConfigError(ValueError):
    pass


def jobs_from_config(config: Dict[str, Any]) -> List[Job]:
    jobs = []
    for name, spec in sorted(config.get("jobs", {}).items()):
        if "every" not in spec:
            raise JobConfigError(f"job {name}: 'every' is required")
        for key in ("every", "timeout"):
            if key in spec:
                try:
                    parse_duration(str(spec[key]))
                except ValueError as exc:
                    raise JobConfigError(f"job {name}: {key}: {exc}") from None
        jobs.append(Job(name, str(spec["every"]), spec.get("timeout")))
    return jobs
