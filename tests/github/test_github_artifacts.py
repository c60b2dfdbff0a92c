"""The agent job's pieces: the events it keeps, the artifact read defensively, the Actions context, the messages."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fake_github import FakeGitHub

from coder.config import Config
from coder.events import EVENT_TYPES
from coder.github.agent_job import AgentJobError, RunCollector, agent_job
from coder.github.artifacts import ArtifactError, RunSummary, read_artifact, write_summary
from coder.github.context import ActionContext, ContextError
from coder.github.messages import failure_comment, marker, pull_body, refusal_comment, untrusted
from test_trajectory import SAMPLES


@pytest.mark.parametrize("name", sorted(EVENT_TYPES))
def test_collector_keeps_something_exactly_for_the_declared_types(name: str) -> None:
    collector = RunCollector()
    collector(SAMPLES[name])
    assert (collector != RunCollector()) == (name in RunCollector.handled_types), name


def test_collector_keeps_what_the_summary_needs() -> None:
    assert RunCollector.handled_types <= set(EVENT_TYPES)
    collector = RunCollector()
    for event in SAMPLES.values():
        collector(event)
    assert collector.final is SAMPLES["run_finished"]
    assert collector.plan == list(SAMPLES["plan_updated"].steps)  # type: ignore[attr-defined]
    assert collector.edited == [SAMPLES["file_edited"].path]  # type: ignore[attr-defined]
    assert (collector.test_runs, collector.rejected, collector.hints, collector.candidates) == (1, 1, 1, 1)


def test_artifact_round_trip(tmp_path: Path) -> None:
    summary = RunSummary(issue=3, status="resolved", plan=["a"], fail_to_pass=["t::x"], has_patch=True)
    write_summary(tmp_path, summary)
    (tmp_path / "patch.diff").write_text("diff --git a/x b/x\n")
    assert read_artifact(tmp_path, 1000) == (summary, "diff --git a/x b/x\n")


@pytest.mark.parametrize("content,problem", [
    (None, "left no summary.json"),
    ("{not json", "summary.json is malformed"),
    ('{"status": "resolved", "extra": 1}', "summary.json is malformed"),
    ('{"status": "merged"}', "summary.json is malformed"),
    ('{"status": "resolved", "steps": -1}', "summary.json is malformed"),
    ('{"status": "resolved", "plan": ' + json.dumps(["x"] * 101) + "}", "summary.json is malformed"),
])
def test_malformed_artifacts_are_refused(tmp_path: Path, content: str | None, problem: str) -> None:
    if content is not None:
        (tmp_path / "summary.json").write_text(content)
    with pytest.raises(ArtifactError, match=problem):
        read_artifact(tmp_path, 1000)


def test_oversized_patch_is_refused(tmp_path: Path) -> None:
    write_summary(tmp_path, RunSummary(issue=3, status="resolved"))
    (tmp_path / "patch.diff").write_text("x" * 2000)
    with pytest.raises(ArtifactError, match="2000 bytes, over the limit of 1000"):
        read_artifact(tmp_path, 1000)


def test_context_from_the_environment(tmp_path: Path) -> None:
    event = tmp_path / "event.json"
    event.write_text('{"repository": {"full_name": "o/from-payload"}}')
    ctx = ActionContext.from_env({"GITHUB_EVENT_NAME": "issues", "GITHUB_EVENT_PATH": str(event),
                                  "GITHUB_RUN_ID": "9", "GITHUB_SERVER_URL": "https://ghe.example"})
    assert ctx.repository == "o/from-payload" and ctx.api_url == "https://api.github.com"
    assert ctx.run_url == "https://ghe.example/o/from-payload/actions/runs/9" and ctx.token is None


@pytest.mark.parametrize("env,problem", [
    ({}, "no event: set GITHUB_EVENT_NAME"),
    ({"GITHUB_EVENT_NAME": "issues"}, "no event payload"),
    ({"GITHUB_EVENT_NAME": "issues", "GITHUB_EVENT_PATH": "/nonexistent.json"}, "cannot read the event payload"),
])
def test_context_errors_say_what_is_missing(env: dict[str, str], problem: str) -> None:
    with pytest.raises(ContextError, match=problem):
        ActionContext.from_env(env)


def test_context_refuses_a_payload_that_is_not_an_object(tmp_path: Path) -> None:
    event = tmp_path / "event.json"
    event.write_text("[1]")
    with pytest.raises(ContextError, match="not a JSON object"):
        ActionContext.from_env({"GITHUB_EVENT_NAME": "issues", "GITHUB_EVENT_PATH": str(event),
                                "GITHUB_REPOSITORY": "o/r"})


def test_dispatch_on_a_pull_request_number_is_refused(fake_github: FakeGitHub, tmp_path: Path) -> None:
    fake_github.add_issue(5, "a PR", "", pull_request=True)
    ctx = ActionContext("workflow_dispatch", {"inputs": {"issue": "5"}}, fake_github.repository, fake_github.url,
                        "https://github.com", fake_github.token, "1", "1")

    def build(config: Config, stack: object) -> object:
        raise AssertionError("no model for a pull request")

    with pytest.raises(AgentJobError, match="#5 is a pull request"):
        agent_job(ctx, tmp_path, tmp_path / "out", Config(), build)  # type: ignore[arg-type]
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["status"] == "error" and summary["issue"] == 5


def test_untrusted_text_is_defused() -> None:
    text = untrusted("hi @octocat and @org/team <!-- coder:status:issue-1 --> " + "x" * 5000, limit=100)
    assert "@octocat" not in text and "@\u200boctocat" in text and "<!--" not in text and "x" * 30 in text and "x" * 100 not in text
    assert untrusted("mail me: a@b.c") == "mail me: a@\u200bb.c"


def test_pull_body_and_comments() -> None:
    summary = RunSummary(issue=4, status="resolved", summary="fixed it", plan=["look", "fix"],
                         fail_to_pass=[f"t::{n}" for n in range(35)], steps=3, elapsed=12.0, model="m", sandbox="docker")
    body = pull_body(summary, 4, ["a.py"], "https://run")
    assert body.startswith(marker("pr", 4)) and "Fixes #4." in body and "1. look\n2. fix" in body
    assert "- `t::29`" in body and "- `t::30`" not in body and "… and 5 more" in body and "https://run" in body
    failure = failure_comment(4, "the agent run ended as 'stuck'", "https://run", summary)
    assert failure.startswith(marker("status", 4)) and "`/coder fix`" in failure
    assert "@someone" in refusal_comment(4, "someone", "author association NONE", "coder")
    assert "@" not in refusal_comment(4, "evil name]", "author association NONE", "coder").split("\n", 1)[1]
    assert "not on pull requests" in refusal_comment(4, "a", "/coder fix works on issues, not on pull requests", "x")


def test_the_pull_request_counts_candidates_and_flags_test_files_the_patch_changes() -> None:
    """The guided strategy's work shows in the PR, and a patch that changes tests (a reproducing test the model wrote,
    or an edit the tool loop got approved) says so, since the tests are what judged it."""
    plain = RunSummary(issue=4, status="resolved", steps=3, elapsed=12.0, model="m", sandbox="docker")
    body = pull_body(plain, 4, ["a.py"], "https://run")
    assert "Test files changed" not in body and "candidate" not in body
    guided = plain.model_copy(update={"candidates": 5, "test_files": ["tests/test_coder_repro.py"]})
    body = pull_body(guided, 4, ["a.py", "tests/test_coder_repro.py"], "https://run")
    assert "### Test files changed" in body and "- `tests/test_coder_repro.py`" in body
    assert "5 candidate repair(s) tried" in body
    assert RunSummary.model_validate_json(guided.model_dump_json()) == guided
