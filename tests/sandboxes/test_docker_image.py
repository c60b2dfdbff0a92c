"""Building the sandbox image: the tag tracks the tool server, and a base that cannot be pulled points to the fix."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from coder.resources import resource_dir
from coder.sandboxes import docker_image
from coder.sandboxes.docker import docker_client
from coder.sandboxes.docker_image import ImageBuildError, build_image, image_tag


def test_sandbox_resources_ship_together() -> None:
    names = {p.name for p in resource_dir("sandbox").iterdir()}
    assert {"Dockerfile", "build-base.sh", "requirements.txt"} <= names
    pins = (resource_dir("sandbox") / "requirements.txt").read_text().splitlines()
    assert all("==" in line for line in pins if line and not line.startswith("#"))


def test_tag_changes_when_the_tool_server_changes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    copy = tmp_path / "tools"
    shutil.copytree(Path(docker_image.tools_path()) / "coder_tools", copy / "coder_tools")
    monkeypatch.setattr(docker_image, "tools_path", lambda: copy)
    before = image_tag()
    assert before.startswith("coder-sandbox:")
    (copy / "coder_tools" / "shell.py").write_text((copy / "coder_tools" / "shell.py").read_text() + "\n# changed\n")
    assert image_tag() != before


@pytest.mark.docker
def test_unpullable_base_points_to_the_offline_base(docker_images: dict[str, str]) -> None:
    with pytest.raises(ImageBuildError) as info:
        build_image(docker_client(), base="registry.invalid/nothing/here:1", tag="coder-sandbox:unpullable-test")
    message = str(info.value)
    assert "coder sandbox base" in message and "--base coder-base:bookworm" in message
