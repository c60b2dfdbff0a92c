"""`coder eval --check`: each task folder checked both ways in a sandbox, with the grader's own rule.

The rule, shared with the grader (coder.eval.grade): a test passes only when the runner reports it passed. Anything
else (failed, error, skipped, or not reported at all because it never ran: a collection error, an import of a name
the buggy code lacks) is not passing. So a fail_to_pass test must not pass on the buggy repo and must pass with
fix.patch, a pass_to_pass test must pass both times, and an id the runner reports in neither state names no test.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from ..sandboxes.base import Sandbox
from .grade import NEVER_RAN, GradingError, passes, prepare, run_task_tests
from .sandboxing import SandboxPlan
from .tasks import EvalTask


@dataclass
class TaskCheck:
    """What checking one task both ways found."""

    task: str
    fail_to_pass: int = 0
    pass_to_pass: int = 0
    before: dict[str, str] = field(default_factory=dict)  # every fail_to_pass and pass_to_pass id, on the buggy repo
    after: dict[str, str] = field(default_factory=dict)  # the same ids with fix.patch applied
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def line(self) -> str:
        """One line for the report."""
        if self.ok:
            return f"ok  {self.task}: {self.fail_to_pass} fail->pass, {self.pass_to_pass} pass->pass"
        shown = "; ".join(self.problems[:3]) + (f"; and {len(self.problems) - 3} more" if len(self.problems) > 3 else "")
        return f"BAD {self.task}: {shown}"


def run_ids(task: EvalTask, repo: Path, sandbox: Sandbox, timeout: float) -> dict[str, str]:
    """The outcome of each of TASK's ids in REPO, run as the grader runs them; GradingError when no test could run."""
    reported, _ = run_task_tests(task, repo, sandbox, timeout)
    return {t: reported.get(t, NEVER_RAN) for t in (*task.fail_to_pass, *task.pass_to_pass)}


def judge(task: EvalTask, before: dict[str, str], after: dict[str, str]) -> list[str]:
    """The problems of a task whose ids had BEFORE outcomes on the buggy repo and AFTER ones with the fix."""
    problems = [f"fail_to_pass {t} passes on the buggy repo" for t in task.fail_to_pass if passes(before[t])]
    problems += [f"pass_to_pass {t} is {before[t]} on the buggy repo" for t in task.pass_to_pass
                 if not passes(before[t])]
    for t in (*task.fail_to_pass, *task.pass_to_pass):
        if before[t] == NEVER_RAN and after.get(t, NEVER_RAN) == NEVER_RAN:
            problems.append(f"{t} names no test the runner reports (before or after the fix)")
        elif not passes(after.get(t, NEVER_RAN)):
            problems.append(f"{t} is {after.get(t, NEVER_RAN)} with fix.patch")
    return list(dict.fromkeys(problems))


def check_task(task: EvalTask, plan: SandboxPlan, timeout: float = 300.0) -> TaskCheck:
    """Run TASK's tests on its buggy repo and again with its reference fix, in PLAN's sandbox."""
    report = TaskCheck(task.id, len(task.fail_to_pass), len(task.pass_to_pass))
    if not task.reference_patch.strip():
        report.problems.append("no reference fix (fix.patch) to check against")
        return report
    with tempfile.TemporaryDirectory(prefix="coder-check-") as tmp:
        checkout = task.checkout(Path(tmp) / "buggy")
        plan.prepare(task, checkout)
        try:
            report.before = run_ids(task, checkout, plan.sandbox(task.id), timeout)
            fixed = Path(tmp) / "fixed"
            problem, _ = prepare(task, checkout, task.reference_patch, fixed)
            if problem is not None:
                report.problems.append(f"fix.patch: {problem}")
                return report
            report.after = run_ids(task, fixed, plan.sandbox(task.id), timeout)
        except GradingError as exc:
            report.problems.append(str(exc))
            return report
    report.problems = judge(task, report.before, report.after)
    return report
