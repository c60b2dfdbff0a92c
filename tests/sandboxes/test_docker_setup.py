"""Per-repo setup images: run once with network at build time, cached by dependency hash, visible to every run."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from coder.sandboxes.base import WorkspaceOptions
from coder.sandboxes.docker import DockerSandbox, docker_client
from coder.sandboxes.docker_image import ImageBuildError, ensure_setup_image, setup_key
from repo_helpers import git

pytestmark = pytest.mark.docker
SETUP = "mkdir -p build && head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \\n' > build/stamp"


@pytest.fixture
def repo(make_repo: Callable[..., Path]) -> Path:
    return make_repo({"requirements.txt": "six==1.16.0\n", ".gitignore": "build/\n", "app.py": "x = 1\n"})


def test_setup_result_is_cached_and_visible_in_runs(repo: Path, docker_images: dict[str, str]) -> None:
    client = docker_client()
    tag = ensure_setup_image(client, repo, SETUP, docker_images["plain"])
    assert ensure_setup_image(client, repo, SETUP, docker_images["plain"]) == tag  # cached: not rebuilt
    stamps = []
    for _ in range(2):
        with DockerSandbox(image=tag).open(repo, WorkspaceOptions()) as session:
            result = session.call("bash", {"command": "cat build/stamp && touch /workspace/new-in-run"})
            stamps.append(result.output.splitlines()[0])
            patch = session.patch()
            assert "b/new-in-run" in patch and "build/stamp" not in patch
    assert stamps[0] == stamps[1] and len(stamps[0]) == 32  # the same prepared result in every run


def test_key_follows_dependency_files_and_command(repo: Path, docker_images: dict[str, str]) -> None:
    image_id = docker_client().images.get(docker_images["plain"]).id
    key = setup_key(repo, SETUP, image_id)
    (repo / "app.py").write_text("x = 2\n")  # not a dependency file
    assert setup_key(repo, SETUP, image_id) == key
    (repo / "requirements.txt").write_text("six==1.17.0\n")
    git(repo, "commit", "-qam", "bump")
    assert setup_key(repo, SETUP, image_id) != key
    assert setup_key(repo, SETUP + " ", image_id) != setup_key(repo, SETUP, image_id)


def test_failing_setup_is_reported_with_its_output(repo: Path, docker_images: dict[str, str]) -> None:
    with pytest.raises(ImageBuildError, match="exit 3") as info:
        ensure_setup_image(docker_client(), repo, "echo preparing-things; exit 3", docker_images["plain"])
    assert "preparing-things" in str(info.value)


def test_deleted_repo_files_do_not_come_back_from_the_setup_image(repo: Path, docker_images: dict[str, str]) -> None:
    tag = ensure_setup_image(docker_client(), repo, SETUP, docker_images["plain"])
    git(repo, "rm", "-q", "app.py")
    git(repo, "commit", "-qm", "drop app.py")  # not a dependency file: the cached setup image is reused
    assert ensure_setup_image(docker_client(), repo, SETUP, docker_images["plain"]) == tag
    with DockerSandbox(image=tag).open(repo, WorkspaceOptions()) as session:
        listing = session.call("bash", {"command": "ls -A"}).output
    assert "app.py" not in listing and "build" in listing


def test_setup_runs_with_apt_capabilities_only_and_leaves_no_build_variables(make_repo: Callable[..., Path],
                                                                            docker_images: dict[str, str]) -> None:
    repo = make_repo({"app.py": "x = 1\n", ".gitignore": "build/\n"})
    probe = ("mkdir -p build && grep -E '^(CapEff|NoNewPrivs)' /proc/self/status > build/status && id -u >> build/status"
             f" # {uuid.uuid4()}")  # a new command each time: built now, not found in the cache
    tag = ensure_setup_image(docker_client(), repo, probe, docker_images["plain"])
    with DockerSandbox(image=tag).open(repo, WorkspaceOptions()) as session:
        status = session.call("bash", {"command": "cat build/status"}).output
    # CHOWN, DAC_OVERRIDE, FOWNER, SETGID, SETUID: bits 0, 1, 3, 6, 7
    assert "CapEff:\t00000000000000cb" in status and "NoNewPrivs:\t1" in status and "\n0\n" in status, status
    env = docker_client().images.get(tag).attrs["Config"]["Env"]
    assert not [v for v in env if v.split("=")[0] in ("SSL_CERT_FILE", "PIP_BREAK_SYSTEM_PACKAGES", "HOME")], env


def test_environment_variables_reach_commands_but_not_the_tool_server(make_repo: Callable[..., Path],
                                                                    docker_images: dict[str, str]) -> None:
    """A dependency's executable named `git` first on the venv's PATH must not run as the tool server."""
    repo = make_repo({"app.py": "x = 1\n"})
    env = {"PATH": "/tmp/evil:/usr/local/bin:/usr/bin:/bin", "CODER_PROBE": "from-env", "HOME": "/root"}
    with DockerSandbox(image=docker_images["plain"], env=env).open(repo, WorkspaceOptions()) as session:
        fake = "mkdir -p /tmp/evil && printf '#!/bin/sh\\ntouch /tmp/evil/ran\\nexec /usr/bin/git \"$@\"\\n' > /tmp/evil/git"
        session.call("bash", {"command": f"{fake} && chmod +x /tmp/evil/git"})
        seen = session.call("bash", {"command": "echo $CODER_PROBE $HOME; command -v git"}).output
        session.call("bash", {"command": "rm -f /tmp/evil/ran && echo y > app.py"})
        assert "app.py" in session.patch()  # the tool server ran git ...
        ran = session.call("bash", {"command": "ls /tmp/evil"}).output
    assert "from-env /home/coder" in seen and "/tmp/evil/git" in seen  # commands get the variables (not HOME)
    assert "ran" not in ran.replace("[exit code 0]", "")  # ... its own, not the one on the commands' PATH
