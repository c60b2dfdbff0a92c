"""The whole Action, event payload in and pull request out: the agent job (scripted model driving the real agent on a
local sandbox, csv-export task) then the publish job against the spec-checking fake GitHub and a bare git remote."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from coder.cli import _parser
from coder.config import Config
from coder.eval.taskspec import checkout, load_solution, load_task
from coder.github import cli as github_cli
from coder.github.artifacts import PATCH, SUMMARY, TRAJECTORY
from coder.sandboxes.local import LocalSandbox
from coder.testing import ScriptedModel, call, reply
from conftest import ISSUE, TASK, World
from repo_helpers import git, tree_snapshot, worktree_snapshot

F2P = load_task(TASK).fail_to_pass
WORKFLOW = {"name": "edit_file", "arguments": {"path": ".github/workflows/ci.yml", "command": "create",
                                               "new": "on: push\njobs: {}\n"}}


def scripted(extra: list[dict[str, Any]] | None = None) -> ScriptedModel:
    """The task's reference solution as model replies; EXTRA calls go just before submit."""
    solution = load_solution(TASK)
    steps = solution.calls[:-1] + (extra or []) + solution.calls[-1:]
    calls = [call(c["name"], f"call_{i}", **c["arguments"]) for i, c in enumerate(steps)]
    plan = "\n".join(f"{n}. {step}" for n, step in enumerate(solution.plan, 1))
    return ScriptedModel([reply(plan, calls[0])] + [reply("", c) for c in calls[1:]])


def one_step() -> ScriptedModel:
    """A model that looks once and runs out of steps (with --max-steps 1): quick runs whose outcome is not the point."""
    return ScriptedModel([reply("1. Look around", call("grep", "c0", pattern="def rows_to_csv"))])


QUICK = ("--max-steps", "1")
QUICK_ENV = {"CODER_AGENT__BASELINE_TESTS": "false"}


def builder(model: ScriptedModel) -> Any:
    def build(config: Config, stack: ExitStack) -> tuple[ScriptedModel, LocalSandbox, None]:
        return model, LocalSandbox(), None
    return build


def must_not_build(config: Config, stack: ExitStack) -> Any:
    raise AssertionError("the agent job built a model for an event that must not run one")


def run(argv: list[str], env: dict[str, str], build: Any = None) -> int:
    return github_cli.run(_parser().parse_args(["github", *argv]), env, build)


def agent(world: World, model: Any, *flags: str, env: dict[str, str] | None = None) -> int:
    build = builder(model) if isinstance(model, ScriptedModel) else model
    return run(["agent", "--repo", str(world.agent_ws), "--sandbox", "local", *flags], {**world.env, **(env or {})},
               build)


def publish(world: World, *flags: str) -> int:
    return run(["publish", "--repo", str(world.publish_ws), *flags], world.env)


def artifact(world: World) -> Path:
    return Path(world.env["RUNNER_TEMP"]) / "coder-result"


def bot_comments(world: World) -> list[dict[str, Any]]:
    return [c for c in world.fake.comments_on(ISSUE) if c["type"] == "Bot"]


@dataclass
class AgentRun:
    out: Path
    code: int
    model: ScriptedModel
    workspace_unchanged: bool
    events: list[dict[str, Any]]


@pytest.fixture(scope="module")
def agent_runs(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], AgentRun]:
    """Real agent-job runs (the CLI, the scripted solution, the real agent on a local sandbox), made once per module:
    "resolved" (the reference fix) and "workflow" (the fix plus a new .github/workflows file)."""
    done: dict[str, AgentRun] = {}

    def get(kind: str) -> AgentRun:
        if kind not in done:
            tmp = tmp_path_factory.mktemp(f"agent-{kind}")
            ws = checkout(TASK, tmp / "ws")
            spec = load_task(TASK)
            title, _, body = spec.issue.partition("\n")
            event = tmp / "event.json"
            event.write_text(json.dumps({"action": "labeled", "label": {"name": "coder"}, "repository": {},
                                         "issue": {"number": ISSUE, "title": title, "body": body, "state": "open"}}))
            env = {"GITHUB_EVENT_NAME": "issues", "GITHUB_EVENT_PATH": str(event), "GITHUB_REPOSITORY": "o/r",
                   "GITHUB_API_URL": "http://127.0.0.1:9", "RUNNER_TEMP": str(tmp), "GITHUB_OUTPUT": str(tmp / "out")}
            before = tree_snapshot(ws)
            model = scripted([WORKFLOW] if kind == "workflow" else None)
            code = run(["agent", "--repo", str(ws), "--sandbox", "local"], env, builder(model))
            out = tmp / "coder-result"
            events = [json.loads(line)["event"] for line in (out / TRAJECTORY).read_text().splitlines()
                      if json.loads(line)["kind"] == "event"]
            done[kind] = AgentRun(out, code, model, tree_snapshot(ws) == before, events)
        return done[kind]

    return get


def use(world: World, agent_run: AgentRun) -> None:
    """Hand the agent job's artifact to this world's publish job (what upload/download-artifact do)."""
    shutil.rmtree(artifact(world), ignore_errors=True)
    shutil.copytree(agent_run.out, artifact(world))


def test_agent_job_writes_patch_trajectory_and_summary_and_nothing_else(agent_runs: Callable[[str], AgentRun]) -> None:
    done = agent_runs("resolved")
    assert done.code == 0 and done.workspace_unchanged  # the agent job never applies its patch
    done.model.assert_consumed()
    assert not [e for e in done.events if e["type"] == "tool_call_rejected"]
    summary = json.loads((done.out / SUMMARY).read_text())
    assert summary["status"] == "resolved" and summary["issue"] == ISSUE and summary["has_patch"]
    assert set(F2P) <= set(summary["fail_to_pass"]) and summary["still_failing"] == []
    assert summary["plan"][0].startswith("Read reportkit/export.py") and summary["steps"] == 6
    assert summary["usage"]["prompt_tokens"] == 600 and summary["sandbox"] == "local" and summary["model"] == "scripted"
    assert summary["summary"].startswith("rows_to_csv looped")
    assert "+    for row in rows:" in (done.out / PATCH).read_text()
    assert sorted(p.name for p in done.out.iterdir()) == [PATCH, SUMMARY, TRAJECTORY]


def test_labelled_issue_becomes_a_pull_request(world: World, agent_runs: Callable[[str], AgentRun]) -> None:
    world.labelled()
    use(world, agent_runs("resolved"))
    publish_before = worktree_snapshot(world.publish_ws)
    assert publish(world) == 0
    assert world.fake.operations() == [
        "pulls/list", "repos/get", "pulls/create", "issues/list-comments", "issues/create-comment"]
    [pull] = world.fake.pulls
    assert (pull["head"], pull["base"], pull["state"]) == ("coder/issue-7", "main", "open")
    assert pull["title"] == f"coder: {world.issue_title} (#7)"
    body = pull["body"]
    assert "Fixes #7" in body and world.run_url in body and "### Plan" in body
    assert all(f"`{test}`" in body for test in F2P) and "rows_to_csv looped" in body
    branch, main = world.remote_branches()["coder/issue-7"], world.remote_branches()["main"]
    assert git(world.origin, "rev-parse", f"{branch}^").strip() == main
    assert git(world.origin, "diff", "--name-only", main, branch).split() == ["reportkit/export.py"]
    assert git(world.origin, "log", "-1", "--format=%an|%s", branch).strip() == \
        f"github-actions[bot]|coder: {world.issue_title} (#7)"
    assert "Coder-Issue: #7" in git(world.origin, "log", "-1", "--format=%b", branch)
    assert worktree_snapshot(world.publish_ws) == publish_before  # the checkout's files, index and HEAD untouched
    assert git(world.publish_ws, "for-each-ref", "refs/heads").split()[-1] == "refs/heads/main"
    [comment] = bot_comments(world)
    assert f"opened pull request #{pull['number']}" in comment["body"] and world.run_url in comment["body"]
    assert world.outputs()["result"] == "published"


def test_rerun_updates_the_existing_pull_request(world: World, agent_runs: Callable[[str], AgentRun]) -> None:
    world.labelled()
    use(world, agent_runs("resolved"))
    assert publish(world) == 0
    branch = world.remote_branches()["coder/issue-7"]
    world.fake.pulls[0]["body"] = "edited by hand"
    assert publish(world) == 0
    [pull] = world.fake.pulls
    assert world.fake.operations().count("pulls/create") == 1 and world.fake.operations().count("pulls/update") == 1
    assert pull["body"].startswith("<!-- coder:pr:issue-7 -->")
    assert world.remote_branches() == {"coder/issue-7": branch, "main": world.remote_branches()["main"]}
    [comment] = bot_comments(world)
    assert f"updated pull request #{pull['number']}" in comment["body"]


def test_rerun_after_main_moved_replaces_coders_own_commit(world: World, agent_runs: Callable[[str], AgentRun]) -> None:
    world.labelled()
    use(world, agent_runs("resolved"))
    assert publish(world) == 0
    first = world.remote_branches()["coder/issue-7"]
    (world.publish_ws / "NOTES.md").write_text("notes\n")  # main moves on; the next run checks out its new head
    git(world.publish_ws, "add", "NOTES.md")
    git(world.publish_ws, "commit", "-qm", "notes")
    git(world.publish_ws, "push", "-q", "origin", "HEAD:main")
    assert publish(world) == 0
    second = world.remote_branches()["coder/issue-7"]
    assert second != first and git(world.origin, "rev-parse", f"{second}^").strip() == world.remote_branches()["main"]
    assert len(world.fake.pulls) == 1


def test_branch_with_someone_elses_commits_is_not_overwritten(world: World,
                                                              agent_runs: Callable[[str], AgentRun]) -> None:
    world.labelled()
    use(world, agent_runs("resolved"))
    assert publish(world) == 0
    helper = world.tmp / "helper"
    git(world.tmp, "clone", "-q", "-b", "coder/issue-7", str(world.origin), str(helper))
    (helper / "extra.txt").write_text("a maintainer's follow-up\n")
    git(helper, "add", "extra.txt")
    git(helper, "commit", "-qm", "follow-up")
    git(helper, "push", "-q", "origin", "coder/issue-7")
    theirs = world.remote_branches()["coder/issue-7"]
    use(world, agent_runs("workflow"))  # a different patch this time
    assert publish(world, "--allow-workflow-changes") == 1
    assert world.remote_branches()["coder/issue-7"] == theirs
    assert "has commits coder did not make" in bot_comments(world)[-1]["body"]


def test_comment_from_a_non_collaborator_is_refused_without_a_model(world: World) -> None:
    for _ in range(2):  # asking twice edits the one refusal instead of piling up comments
        world.commented("/coder fix please", "NONE", login="passer-by")
        assert agent(world, must_not_build) == 0
        assert json.loads((artifact(world) / SUMMARY).read_text())["status"] == "skipped"
        assert not (artifact(world) / PATCH).exists()
        assert publish(world) == 0
        assert world.outputs()["result"] == "refused"
    [refusal] = bot_comments(world)
    assert "@passer-by" in refusal["body"] and "owners, members or collaborators" in refusal["body"]
    assert world.fake.pulls == [] and list(world.remote_branches()) == ["main"]
    assert world.fake.operations() == ["issues/list-comments", "issues/create-comment",  # all from the publish job
                                       "issues/list-comments", "issues/update-comment"]


def test_unrelated_label_is_ignored_by_both_jobs(world: World) -> None:
    world.labelled("bug")
    assert agent(world, must_not_build) == 0
    assert publish(world) == 0 and world.outputs()["result"] == "ignored"
    assert world.fake.requests == []


def test_comment_from_a_collaborator_runs_with_their_note(world: World) -> None:
    world.commented("/coder fix the loop in rows_to_csv", "COLLABORATOR", login="maintainer")
    model = one_step()
    assert agent(world, model, *QUICK, env=QUICK_ENV) == 0
    first_prompt = "\n".join(m.content for m in model.calls[0] if m.content)
    assert "Note from the maintainer who asked for this fix: the loop in rows_to_csv" in first_prompt
    assert world.issue_title in first_prompt and world.fake.requests == []


def test_workflow_dispatch_reads_the_issue_with_the_read_token(world: World) -> None:
    world.event("workflow_dispatch", {"inputs": {"issue": str(ISSUE)}, "sender": {"login": "maintainer"}})
    model = one_step()
    assert agent(world, model, *QUICK, env=QUICK_ENV) == 0
    assert world.fake.operations() == ["issues/get"]
    assert world.issue_title in "\n".join(m.content for m in model.calls[0] if m.content)


def test_agent_failure_is_reported_on_the_issue(world: World) -> None:
    world.labelled()
    assert agent(world, one_step(), *QUICK, env=QUICK_ENV) == 0
    assert json.loads((artifact(world) / SUMMARY).read_text())["status"] == "limit_reached"
    assert publish(world) == 1
    [comment] = bot_comments(world)
    assert "ended as 'limit_reached'" in comment["body"] and world.run_url in comment["body"]
    assert "steps limit reached" in comment["body"]
    assert world.fake.pulls == [] and list(world.remote_branches()) == ["main"]


def test_unreachable_model_endpoint_is_reported(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    world.labelled()
    code = run(["agent", "--repo", str(world.agent_ws), "--sandbox", "local", "--base-url", "http://127.0.0.1:9/v1"],
               {**world.env, "CODER_MODEL__MAX_RETRIES": "0"})
    assert code == 2 and "the agent could not run" in capsys.readouterr().err
    assert json.loads((artifact(world) / SUMMARY).read_text())["status"] == "error"
    assert publish(world) == 1
    assert "ended as 'error'" in bot_comments(world)[0]["body"]


def test_agent_job_that_left_no_artifact_is_reported(world: World) -> None:
    world.labelled()
    assert publish(world, "--agent-result", "failure") == 1
    body = bot_comments(world)[0]["body"]
    assert "result 'failure'" in body and "no artifact" in body and world.run_url in body


def test_patch_touching_workflows_is_blocked_unless_allowed(world: World,
                                                            agent_runs: Callable[[str], AgentRun]) -> None:
    world.labelled()
    done = agent_runs("workflow")
    assert not [e for e in done.events if e["type"] == "tool_call_rejected"]
    assert ".github/workflows/ci.yml" in (done.out / PATCH).read_text()
    use(world, done)
    assert publish(world) == 1
    assert "allow-workflow-changes" in bot_comments(world)[0]["body"]
    assert world.fake.pulls == [] and list(world.remote_branches()) == ["main"]
    assert publish(world, "--allow-workflow-changes") == 0
    [pull] = world.fake.pulls
    assert "`.github/workflows/ci.yml`" in pull["body"]
    assert len(bot_comments(world)) == 1  # the failure comment became the success comment


def test_pull_request_setting_is_named_when_actions_may_not_open_pull_requests(
        world: World, agent_runs: Callable[[str], AgentRun], capsys: pytest.CaptureFixture[str]) -> None:
    world.labelled()
    use(world, agent_runs("resolved"))
    world.fake.fail("pulls/create", 403, "GitHub Actions is not permitted to create or approve pull requests.")
    assert publish(world) == 2
    err = capsys.readouterr().err
    assert "Allow GitHub Actions to create and approve pull requests" in err and err.count("coder: error:") == 1
    assert "coder/issue-7" in world.remote_branches()  # the fix is pushed; only the pull request is missing
    assert "Allow GitHub Actions to create and approve pull requests" in bot_comments(world)[0]["body"]


def test_artifact_for_another_issue_is_not_published(world: World, agent_runs: Callable[[str], AgentRun]) -> None:
    world.labelled()
    use(world, agent_runs("resolved"))
    summary_path = artifact(world) / SUMMARY
    summary_path.write_text(summary_path.read_text().replace(f'"issue": {ISSUE}', '"issue": 8'))
    assert publish(world) == 1
    assert "not #7" in bot_comments(world)[0]["body"] and world.fake.pulls == []


def test_model_text_cannot_forge_markers_or_mentions(world: World, agent_runs: Callable[[str], AgentRun]) -> None:
    world.labelled()
    use(world, agent_runs("resolved"))
    summary_path = artifact(world) / SUMMARY
    summary = json.loads(summary_path.read_text())
    summary["summary"] = "done <!-- coder:status:issue-7 --> cc @octocat"
    summary_path.write_text(json.dumps(summary))
    assert publish(world) == 0
    body = world.fake.pulls[0]["body"]
    assert body.count("<!-- coder:") == 1 and "@octocat" not in body and "@\u200boctocat" in body


def test_decide_sets_the_step_outputs_the_action_gates_on(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    world.labelled()
    assert run(["decide"], world.env) == 0
    assert world.outputs() == {"action": "run", "run": "true", "issue": "7"}
    world.commented("/coder fix", "NONE")
    assert run(["decide"], world.env) == 0
    assert world.outputs() == {"action": "refuse", "run": "false", "issue": "7"}
    world.event("workflow_dispatch", {"inputs": {"issue": "seven"}})
    assert run(["decide"], world.env) == 2
    assert world.outputs()["action"] == "invalid"
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "needs an issue number" in err
    assert world.fake.requests == []


@pytest.mark.docker
def test_agent_job_in_the_docker_sandbox(world: World, docker_images: dict[str, str]) -> None:
    """What the action runs by default: the agent in the locked-down container; the PR comes out the same."""
    from coder.sandboxes.docker import DockerSandbox

    world.labelled()
    model = scripted()

    def build(config: Config, stack: ExitStack) -> tuple[ScriptedModel, DockerSandbox, None]:
        return model, DockerSandbox(image=docker_images["toolchain"]), None

    before = tree_snapshot(world.agent_ws)
    assert run(["agent", "--repo", str(world.agent_ws), "--sandbox", "docker"], world.env, build) == 0
    model.assert_consumed()
    summary = json.loads((artifact(world) / SUMMARY).read_text())
    assert (summary["status"], summary["sandbox"]) == ("resolved", "docker") and set(F2P) <= set(summary["fail_to_pass"])
    assert tree_snapshot(world.agent_ws) == before
    assert publish(world) == 0 and len(world.fake.pulls) == 1
