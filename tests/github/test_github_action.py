"""action.yml and the ready-to-copy workflow: valid for GitHub (SchemaStore schemas), split by privilege, no
expression ever expanded inside a shell script, every flag they pass accepted by `coder github`, README in step."""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from coder.cli import _parser

ROOT = Path(__file__).resolve().parents[2]
ACTION = ROOT / "action.yml"
WORKFLOW = ROOT / "examples" / "coder-workflow.yml"


def load(path: Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text())


@pytest.fixture(scope="module")
def action() -> dict[str, Any]:
    return load(ACTION)


@pytest.fixture(scope="module")
def workflow() -> dict[str, Any]:
    return load(WORKFLOW)


@pytest.mark.parametrize("path,schema", [(ACTION, "vendor.github-actions"), (WORKFLOW, "vendor.github-workflows")])
def test_files_match_githubs_schemas(path: Path, schema: str) -> None:
    proc = subprocess.run([sys.executable, "-m", "check_jsonschema", "--builtin-schema", schema, str(path)],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_action_is_composite_and_every_step_has_a_shell(action: dict[str, Any]) -> None:
    assert action["runs"]["using"] == "composite"
    for step in action["runs"]["steps"]:
        assert ("run" in step) != ("uses" in step), step
        if "run" in step:
            assert step["shell"] == "bash"


def test_no_expression_is_expanded_inside_a_script(action: dict[str, Any]) -> None:
    """Inputs reach scripts only as environment variables, so no value can become shell code."""
    for step in action["runs"]["steps"]:
        assert "${{" not in step.get("run", ""), step["run"]


def test_every_input_used_is_declared(action: dict[str, Any], workflow: dict[str, Any]) -> None:
    declared = set(action["inputs"])
    used = set(re.findall(r"inputs\.([\w-]+)", ACTION.read_text()))
    assert used <= declared, used - declared
    for job in workflow["jobs"].values():
        for step in job["steps"]:
            if "coder@" in step.get("uses", ""):
                assert set(step["with"]) <= declared, set(step["with"]) - declared
                assert step["with"]["mode"] in ("agent", "publish")


def _subcommand(parser: argparse.ArgumentParser, *names: str) -> argparse.ArgumentParser:
    for name in names:
        sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        parser = sub.choices[name]
    return parser


def test_every_flag_the_action_passes_is_accepted(action: dict[str, Any]) -> None:
    seen = set()
    for step in action["runs"]["steps"]:
        script = step.get("run", "")
        match = re.search(r"python -m coder\.github (\w+)", script)
        if not match:
            continue
        seen.add(match.group(1))
        accepted = {o for a in _subcommand(_parser(), "github", match.group(1))._actions for o in a.option_strings}
        flags = set(re.findall(r"(?<![\w-])(--[a-z][a-z-]+)", script))
        assert flags <= accepted, (match.group(1), flags - accepted)
    assert seen == {"decide", "agent", "publish"}


def test_the_strategy_input_reaches_the_agent_configuration(action: dict[str, Any], tmp_path: Path) -> None:
    """An empty strategy input passes no flag (the configuration decides); a set one becomes --strategy."""
    from coder.config import load_config
    from coder.github.cli import _agent_flags

    assert action["inputs"]["strategy"]["default"] == ""
    [agent] = [step for step in action["runs"]["steps"] if step.get("id") == "agent"]
    assert agent["env"]["STRATEGY"] == "${{ inputs.strategy }}"
    assert '[ -z "$STRATEGY" ] || args+=(--strategy "$STRATEGY")' in agent["run"]
    args = _parser().parse_args(["github", "agent", "--strategy", "guided"])
    assert load_config(tmp_path, _agent_flags(args), environ={}).agent.strategy == "guided"
    unset = _parser().parse_args(["github", "agent"])
    assert _agent_flags(unset)["agent.strategy"] is None


def _steps_running(action: dict[str, Any], pattern: str) -> list[int]:
    return [i for i, step in enumerate(action["runs"]["steps"]) if re.search(pattern, step.get("run", ""))]


def test_agent_job_builds_the_environment_image_in_its_own_step_before_the_run(action: dict[str, Any]) -> None:
    """The repository's install (its code, with network) runs in a visible step of its own, after the sandbox image
    and before the agent, holding no token and no model secret; the agent step never builds."""
    steps = action["runs"]["steps"]
    [sandbox] = _steps_running(action, r"coder sandbox build")
    [env] = _steps_running(action, r"coder env build")
    agent = next(i for i, s in enumerate(steps) if s.get("id") == "agent")
    assert sandbox < env < agent
    step = steps[env]
    assert "environment image" in step["name"]
    assert step["if"] == steps[sandbox]["if"]  # agent mode, the event asks for a fix, the docker sandbox
    assert "inputs.sandbox == 'docker'" in step["if"] and "steps.decide.outputs.run == 'true'" in step["if"]
    assert set(step.get("env", {})) == {"CODER_SANDBOX__SETUP"}
    assert step["env"]["CODER_SANDBOX__SETUP"] == "${{ inputs.setup }}"
    text = yaml.safe_dump(step)
    assert not re.search(r"token|api-key|API_KEY|secrets\.", text, re.IGNORECASE), text
    assert "coder env build" not in steps[agent]["run"] and "coder sandbox build" not in steps[agent]["run"]


def test_every_coder_command_the_action_runs_is_accepted() -> None:
    """`coder sandbox build`, `coder env build|show`, `coder models pull`: subcommands and flags the CLI accepts."""
    from coder import env_cli

    parser = _parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    if "env" not in sub.choices:  # wired into coder.cli by its owner; checked here on the module's own parser
        env_cli.add_parser(sub)
    seen = set()
    for line in ACTION.read_text().splitlines():
        match = re.search(r"^\s*(?:run: )?coder (\w+) (\w+)(.*)$", line)
        if not match:
            continue
        command, action_name, rest = match.groups()
        seen.add(f"{command} {action_name}")
        accepted = {o for a in _subcommand(parser, command, action_name)._actions for o in a.option_strings}
        flags = set(re.findall(r"(?<![\w-])(--[a-z][a-z-]+)", rest))
        assert flags <= accepted, (command, action_name, flags - accepted)
    assert {"sandbox build", "env build", "env show", "models pull"} <= seen


def test_jobs_are_split_by_privilege(workflow: dict[str, Any]) -> None:
    assert workflow["permissions"] == {}
    agent, publish = workflow["jobs"]["agent"], workflow["jobs"]["publish"]
    assert agent["permissions"] == {"contents": "read", "issues": "read"}
    assert publish["permissions"] == {"contents": "write", "pull-requests": "write", "issues": "write"}
    assert publish["needs"] == "agent" and "always()" in publish["if"]
    agent_text = yaml.safe_dump(agent)
    publish_text = yaml.safe_dump(publish)
    assert "secrets." in agent_text and "secrets." not in publish_text  # the model's secret stays in the agent job
    assert not {"base-url", "api-key", "model"} & set(_coder_step(publish)["with"])
    checkout = next(s for s in agent["steps"] if s.get("uses", "").startswith("actions/checkout@"))
    assert checkout["with"]["persist-credentials"] is False  # no token left in .git/config near the agent


def _coder_step(job: dict[str, Any]) -> dict[str, Any]:
    return next(s for s in job["steps"] if "coder@" in s.get("uses", ""))


def test_artifact_travels_from_agent_to_publish(workflow: dict[str, Any]) -> None:
    agent, publish = workflow["jobs"]["agent"], workflow["jobs"]["publish"]
    upload = next(s for s in agent["steps"] if s.get("uses", "").startswith("actions/upload-artifact@"))
    download = next(s for s in publish["steps"] if s.get("uses", "").startswith("actions/download-artifact@"))
    assert upload["if"] == "always()" and download["continue-on-error"] is True
    assert upload["with"]["name"] == download["with"]["name"]
    assert upload["with"]["path"] == _coder_step(agent)["with"]["artifact-dir"]
    assert download["with"]["path"] == _coder_step(publish)["with"]["artifact-dir"]
    assert _coder_step(publish)["with"]["agent-result"] == "${{ needs.agent.result }}"


def test_triggers_and_prefilter_match_the_action(workflow: dict[str, Any], action: dict[str, Any]) -> None:
    on = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as true
    assert on["issues"]["types"] == ["labeled"] and on["issue_comment"]["types"] == ["created"]
    assert "issue" in on["workflow_dispatch"]["inputs"]
    label = action["inputs"]["label"]["default"]
    assert f"github.event.label.name == '{label}'" in workflow["jobs"]["agent"]["if"]
    assert "startsWith(github.event.comment.body, '/coder fix')" in workflow["jobs"]["agent"]["if"]


def test_readme_carries_the_example_workflow_verbatim() -> None:
    readme = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```yaml\n(.*?)```", readme, re.DOTALL)
    assert WORKFLOW.read_text() in blocks


def test_decide_and_publish_import_only_the_light_dependencies(tmp_path: Path) -> None:
    """The action installs only httpx, gitpython and pydantic for these; nothing heavier may be imported (rich may
    appear: httpx loads it for its own command line when it happens to be installed)."""
    event = tmp_path / "event.json"
    event.write_text('{"action": "labeled", "label": {"name": "bug"}, "issue": {"number": 1}}')
    code = ("import sys; from coder.github.cli import main\n"
            f"for a in (['decide'], ['agent', '--out', {str(tmp_path / 'out')!r}], "
            f"['publish', '--artifact', {str(tmp_path / 'none')!r}]):\n"
            "    assert main([*a, '--event-name', 'issues', '--event-path', sys.argv[1], '--repository', 'o/r']) == 0\n"
            "heavy = ('openai', 'docker', 'jinja2', 'coder_tools', 'coder.agent', 'coder.render', 'llama_cpp', "
            "'transformers', 'tree_sitter')\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy or m in heavy))")
    proc = subprocess.run([sys.executable, "-c", code, str(event)], capture_output=True, text=True, cwd=tmp_path,
                          env={"PATH": "/usr/bin:/bin", "GITHUB_TOKEN": "t", "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[-1] == "[]"
