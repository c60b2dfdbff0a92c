"""`coder doctor`'s environment section: detected environment, image tag and built, test count; also when the model
probe fails, without Docker (local count), with the image not built (no count, the command to build it) and built
(counted in Docker on the image)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from coder import doctor
from coder.config import load_config
from repo_helpers import BUGGY_REPO

DOWN = {"model.base_url": "http://127.0.0.1:9/v1", "model.provider": "openai_compat"}


def _diagnose(repo: Path) -> dict[str, Any]:
    return doctor.diagnose(load_config(repo, DOWN), repo=repo)


@pytest.fixture
def no_docker(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-engine.sock")


def test_model_down_and_no_docker_still_reports_the_environment_counted_locally(
        buggy_repo: Path, no_docker: None) -> None:
    report = _diagnose(buggy_repo)
    assert "probe_error" in report  # the model part failed ...
    env = report["environment"]  # ... and the environment part is there all the same
    assert "python" in env["languages"] and env["test_runner"] == "pytest"
    assert env["package_manager"] and env["setup_command"]
    assert env["image"] == "unknown" and env["image_built"] is False and "Docker is not reachable" in env["image_detail"]
    assert env["baseline_tests"] == {"found": 2, "passed": 1, "failed": 1, "errors": 0, "skipped": 0,
                                     "runner": "pytest", "command": env["baseline_tests"]["command"], "sandbox": "local"}
    parsed = json.loads(doctor.render(report, as_json=True))
    assert parsed["environment"]["baseline_tests"]["found"] == 2
    text = doctor.render(report, as_json=False)
    assert "environment:" in text and "2 found (1 passed, 1 failed" in text and "in the local sandbox" in text


def test_not_a_repository_is_reported_not_raised(tmp_path: Path, no_docker: None) -> None:
    report = _diagnose(tmp_path)
    assert "not the top of a git repository" in report["environment"]["error"]


def test_repository_text_is_shown_not_obeyed(make_repo: Callable[..., Path], no_docker: None) -> None:
    repo = make_repo({**BUGGY_REPO, "tests/test_calc.py": BUGGY_REPO["tests/test_calc.py"]
                      + "\n\ndef test_\u202eevil():\n    assert True\n"})
    text = doctor.render(_diagnose(repo), as_json=False)
    assert "\u202e" not in text and "\x1b" not in text


@pytest.mark.docker
def test_not_built_then_built(make_repo: Callable[..., Path], docker_images: dict[str, str]) -> None:
    from coder.envs import detect_environment, ensure_env_image
    from coder.sandboxes.docker import docker_client

    repo = make_repo({**BUGGY_REPO, "requirements.txt": f"# doctor test {uuid.uuid4().hex}\npytest\n"})
    config = load_config(repo, {**DOWN, "sandbox.image": docker_images["plain"]})
    env = doctor.diagnose(config, repo=repo)["environment"]
    assert env["image_built"] is False and env["image"].strip()
    assert "coder env build" in env["baseline_tests"] and "coder env build" in env["image_detail"]
    client = docker_client()
    image = ensure_env_image(client, repo, detect_environment(repo), docker_images["plain"], lambda _: None)
    try:
        assert image.tag == env["image"]  # the tag doctor reported is the one the build makes
        env = doctor.diagnose(config, repo=repo)["environment"]
        assert env["image_built"] is True and "image_detail" not in env
        counted = env["baseline_tests"]
        assert counted["sandbox"] == "docker" and counted["found"] == 2 and counted["failed"] == 1
    finally:
        client.images.remove(image.tag, force=True)


def test_tests_that_cannot_run_are_said_with_the_preflight_judgement(make_repo: Callable[..., Path],
                                                                     no_docker: None) -> None:
    repo = make_repo({"calc.py": BUGGY_REPO["calc.py"], "tests/test_calc.py": "import numpy_is_not_here\n\n\n"
                      "def test_x():\n    assert True\n"})
    env = _diagnose(repo)["environment"]
    said = json.dumps(env["baseline_tests"])
    assert "the tests cannot run here" in said and "numpy_is_not_here" in said
