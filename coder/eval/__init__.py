"""`coder eval`: tasks/ and SWE-bench instances, run by coder (and mini-swe-agent or the reference fixes for
comparison) in parallel sandboxes, graded in fresh sandboxes, reported as JSONL, markdown, a plot and predictions."""

from .jobs import EvalConfig, Job
from .loading import load_tasks
from .plan import EvalPlan
from .results import GradeResult, ResultStore, RunRecord
from .runner import EvalOutcome, Evaluation
from .tasks import EvalTask

__all__ = ["EvalConfig", "EvalOutcome", "EvalPlan", "EvalTask", "Evaluation", "GradeResult", "Job", "ResultStore",
           "RunRecord", "load_tasks"]
