"""mini-swe-agent side by side: its real DefaultAgent and LitellmModel against a scripted OpenAI-compatible server,
its bash commands run in coder's sandbox, its patch graded by the same fresh-sandbox grader."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from conftest import PAGINATOR, RecordingDisplay, task
from fake_openai_server import FakeOpenAIServer, Scripted, completion, native_call

pytest.importorskip("minisweagent", reason="mini-swe-agent is the optional `compare` extra")

from coder.eval.mini_swe import SandboxEnvironment  # noqa: E402
from coder.eval.plan import EvalPlan  # noqa: E402
from coder.eval.runner import Evaluation  # noqa: E402
from coder.models.config import ModelConfig  # noqa: E402
from coder.sandboxes.base import WorkspaceOptions  # noqa: E402
from coder.sandboxes.local import LocalSandbox  # noqa: E402

USAGE = {"prompt_tokens": 50, "completion_tokens": 5, "total_tokens": 55,
         "prompt_tokens_details": {"cached_tokens": 30}}
FIX = "sed -i 's#return self.count // self.per_page$#return -(-self.count // self.per_page)#' pager/paginator.py"


def bash_reply(i: int, command: str) -> Scripted:
    return Scripted("json", completion(f"THOUGHT: step {i}", [native_call(f"call_{i}", "bash", {"command": command})],
                                       USAGE, finish_reason="tool_calls"))


@pytest.mark.slow
def test_mini_swe_agent_resolves_a_task_through_the_same_endpoint_and_grader(
        make_plan: Callable[..., EvalPlan], capfd: pytest.CaptureFixture[str]) -> None:
    with FakeOpenAIServer(models=["fake"]) as server:
        server.queue += [
            Scripted("json", completion("I will look first.", None, USAGE)),  # no tool call: a format error
            bash_reply(1, "grep -n 'per_page$' pager/paginator.py"),
            bash_reply(2, FIX),
            bash_reply(3, "python -m pytest -q tests 2>&1 | tail -1"),
            bash_reply(4, "echo COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT"),
        ]
        model = ModelConfig(base_url=server.base_url, name="fake", max_retries=0, timeout=30)
        plan = make_plan([task(PAGINATOR)], models=[model], harnesses=["mini-swe-agent"], model_factory=None)
        outcome = Evaluation(plan, RecordingDisplay()).run()
        requests = list(server.requests)
    assert not server.queue, "every scripted reply was used"
    (record,) = outcome.records
    assert (record.config, record.status, record.error, record.resolved) == ("mini-swe-agent/fake", "submitted", None, True)
    assert (record.steps, record.malformed_calls) == (5, 1)
    assert (record.prompt_tokens, record.completion_tokens, record.cached_tokens) == (250, 25, 150)
    assert "-(-self.count // self.per_page)" in record.patch and record.patch.startswith("diff --git")
    assert Path(record.trajectory or "").is_file()
    assert set(record.grade.fail_to_pass.values()) == {"passed"}
    body = requests[0]
    assert body["model"] == "fake" and [t["function"]["name"] for t in body["tools"]] == ["bash"]
    assert (body["temperature"], body["top_p"], body["top_k"], body["repetition_penalty"]) == (0.7, 0.8, 20, 1.05)
    assert "Please solve this issue" in body["messages"][1]["content"]
    assert "Last page of results missing" in body["messages"][1]["content"]
    printed = capfd.readouterr()
    assert "Provider List" not in printed.out + printed.err  # litellm's banners would tear the progress display


def test_sandbox_environment_reports_output_exit_codes_and_timeouts(tmp_path: Path, make_repo: Callable[..., Path]) -> None:
    repo = make_repo({"a.txt": "hello\n"})
    with LocalSandbox().open(repo, WorkspaceOptions(bash_timeout=5)) as session:
        env = SandboxEnvironment(session, timeout=5, env={"GREETING": "it's me"})
        assert env.execute({"command": "cat a.txt; echo $GREETING"}) == {
            "output": "hello\nit's me", "returncode": 0, "exception_info": ""}
        assert env.execute({"command": "exit 3"})["returncode"] == 3
        assert env.execute({"command": "true"})["output"] == ""
        slow = env.execute({"command": "sleep 5"}, timeout=1)
        assert slow["returncode"] == -1 and "timed out" in slow["exception_info"]
        assert env.get_template_vars()["system"] == "Linux"
        from minisweagent.exceptions import Submitted

        with pytest.raises(Submitted):
            env.execute({"command": "echo COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT"})


class _HostilePatchSandbox:
    """The local sandbox, except that its sessions hand back a crafted patch (as a hostile command could make them)."""

    name = "local"

    def __init__(self, patch: str) -> None:
        self.inner, self.crafted = LocalSandbox(), patch

    def open(self, repo: Path, options: WorkspaceOptions) -> Any:
        session = self.inner.open(repo, options)
        session.patch = lambda: self.crafted  # type: ignore[method-assign]
        return session


def test_a_patch_the_shared_check_refuses_never_leaves_the_harness(
        tmp_path: Path, make_repo: Callable[..., Path]) -> None:
    from coder.eval.endpoint import Endpoint
    from coder.eval.harness import RunLimits
    from coder.eval.mini_swe import MiniSweAgentHarness
    from coder.eval.tasks import EvalTask

    leak = "diff --git a/etc/passwd b/leak.txt\nsimilarity index 100%\ncopy from /etc/passwd\ncopy to leak.txt\n"
    repo = make_repo({"a.txt": "hello\n"})
    with FakeOpenAIServer(models=["fake"]) as server:
        server.queue.append(bash_reply(1, "echo COMPLETE_TASK_AND_SUBMIT_FINAL_OUTPUT"))
        model = ModelConfig(base_url=server.base_url, name="fake", max_retries=0, timeout=30)
        harness = MiniSweAgentHarness(Endpoint("fake", model), RunLimits(max_steps=3, max_seconds=60, bash_timeout=10),
                                      tmp_path / "traj")
        attempt = harness.attempt(EvalTask("t", "python", "fix it", ()), repo, _HostilePatchSandbox(leak), 0,
                                  lambda _: None)
    assert attempt.patch == "" and attempt.error is None  # not an infrastructure error: graded, not retried
    assert attempt.message.startswith("the patch was refused:") and "/etc/passwd" in attempt.message
    assert not (repo / "leak.txt").exists()
