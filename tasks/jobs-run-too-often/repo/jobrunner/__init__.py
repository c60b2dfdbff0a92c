"""jobrunner: periodic jobs with human-friendly intervals."""

from .config import JobConfigError, jobs_from_config
from .durations import format_duration, parse_duration
from .schedule import Job

__all__ = ["Job", "JobConfigError", "format_duration", "jobs_from_config", "parse_duration"]
