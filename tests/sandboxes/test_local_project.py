"""The local sandbox runs the tests in the project's own environment: its virtualenv, editable install, node_modules."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import venv
from collections.abc import Callable
from pathlib import Path

import pytest

from coder.sandboxes.local import LocalSandbox
from coder.sandboxes.local_project import editable_paths, find_project_env, link_node_modules, venv_python
from coder_tools.base import WorkspaceOptions

ONLY_IN_VENV = "onlyinvenv"  # a module that exists in the project's venv and nowhere else
TESTS = ("import sys\nimport onlyinvenv\nfrom calc import add\n\n\n"
         "def test_add():\n    assert add(1, 2) == 3 and onlyinvenv.ANSWER == 42\n\n\n"
         "def test_interpreter():\n    assert '.venv' in sys.prefix\n")


def bare_venv(path: Path) -> Path:
    """A real virtualenv without pip (fast, offline); returns its site-packages."""
    venv.create(path, with_pip=False)
    return next(path.glob("lib/python*/site-packages"))


@pytest.fixture(scope="module")
def venv_with_pytest(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A virtualenv with pytest really installed (pip from the configured index; offline: pytest's own folder linked)
    plus a module that no other interpreter has. Copied into each repo's .venv by the tests that need one."""
    root = tmp_path_factory.mktemp("venv") / ".venv"
    site = bare_venv(root)
    python = str(venv_python(root))
    proc = subprocess.run([sys.executable, "-m", "pip", "--python", python, "install", "-q", "pytest"],
                          capture_output=True, text=True, timeout=300)
    if proc.returncode != 0:  # no index reachable: let the venv see the pytest coder's tests run with
        import pytest as installed

        (site / "coder-test-pytest.pth").write_text(str(Path(installed.__file__).resolve().parents[1]) + "\n")
    (site / f"{ONLY_IN_VENV}.py").write_text("ANSWER = 42\n")
    check = subprocess.run([python, "-c", "import pytest, onlyinvenv"], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    return root


def project_repo(make_repo: Callable[..., Path], venv_dir: Path | None, files: dict[str, str] | None = None) -> Path:
    repo = make_repo({".gitignore": ".venv/\nnode_modules/\n", "calc.py": "def add(a, b):\n    return a + b\n",
                      "tests/test_calc.py": TESTS, **(files or {})})
    if venv_dir is not None:
        shutil.copytree(venv_dir, repo / ".venv", symlinks=True)
    return repo


# ---------------------------------------------------------------- finding the environment

def test_the_repositorys_venv_is_found(tmp_path: Path) -> None:
    bare_venv(tmp_path / ".venv")
    found = find_project_env(tmp_path, environ={}, own_prefix=sys.prefix)
    assert found.python == str(tmp_path / ".venv" / "bin" / "python") and found.source == "the repository's .venv"
    assert str(tmp_path / ".venv" / "bin" / "python") in found.describe()


def test_an_active_virtualenv_wins_unless_it_is_coders_own(tmp_path: Path) -> None:
    repo, other = tmp_path / "repo", tmp_path / "active"
    bare_venv(repo / ".venv")
    bare_venv(other)
    active = find_project_env(repo, environ={"VIRTUAL_ENV": str(other)}, own_prefix=sys.prefix)
    assert active.python == str(other / "bin" / "python") and "active virtualenv" in active.source
    own = find_project_env(repo, environ={"VIRTUAL_ENV": str(other)}, own_prefix=str(other))
    assert own.python == str(repo / ".venv" / "bin" / "python")  # coder's own venv is not the project's


def test_coder_installed_into_the_projects_venv_uses_that_venv(tmp_path: Path) -> None:
    bare_venv(tmp_path / ".venv")
    found = find_project_env(tmp_path, environ={"VIRTUAL_ENV": str(tmp_path / ".venv")},
                             own_prefix=str(tmp_path / ".venv"))
    assert found.python == str(tmp_path / ".venv" / "bin" / "python")


def test_without_a_project_env_coders_python_is_used_and_said(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    found = find_project_env(tmp_path, environ={"VIRTUAL_ENV": sys.prefix}, own_prefix=sys.prefix)
    assert found.python is None and sys.executable in found.describe()
    assert "coder's own Python" in found.describe() and "create .venv" in found.describe()


def test_a_poetry_environment_outside_the_repository_is_asked_for(tmp_path: Path) -> None:
    repo, env_dir, bin_dir = tmp_path / "repo", tmp_path / "cache" / "x-py3.11", tmp_path / "bin"
    repo.mkdir()
    (repo / "poetry.lock").write_text("")
    bare_venv(env_dir)
    bin_dir.mkdir()
    fake = bin_dir / "poetry"
    fake.write_text(f"#!/bin/sh\n[ \"$1 $2 $3\" = 'env info -p' ] && echo {env_dir}\n")
    fake.chmod(0o755)
    found = find_project_env(repo, environ={"PATH": f"{bin_dir}:/usr/bin:/bin"}, own_prefix=sys.prefix)
    assert found.python == str(env_dir / "bin" / "python") and "poetry" in found.source


def test_editable_installs_pointing_into_the_checkout_are_found(tmp_path: Path) -> None:
    repo, env_dir = tmp_path / "repo", tmp_path / "venv"
    (repo / "src" / "mypkg").mkdir(parents=True)
    site = bare_venv(env_dir)
    (site / "_mypkg.pth").write_text(f"{repo / 'src'}\nimport something\n/elsewhere/entirely\n")
    (site / "__editable___other_1_0_finder.py").write_text(f"MAPPING = {{'other': '{repo / 'lib' / 'other'}'}}\n")
    assert editable_paths(env_dir, repo) == ["src", "lib"]


def test_node_modules_are_linked_package_by_package(tmp_path: Path) -> None:
    source, work = tmp_path / "repo" / "node_modules", tmp_path / "work"
    (source / "leftpad").mkdir(parents=True)
    (source / ".cache").mkdir()
    (source / ".bin").mkdir()
    work.mkdir()
    assert link_node_modules(source, work) == 2
    target = work / "node_modules"
    assert target.is_dir() and not target.is_symlink()  # git's `node_modules/` exclude matches a real folder only
    assert (target / "leftpad").resolve() == (source / "leftpad").resolve() and not (target / ".cache").exists()


# ---------------------------------------------------------------- the local sandbox on a real project venv

def test_the_local_sandbox_runs_the_tests_with_the_repositorys_venv(make_repo: Callable[..., Path],
                                                                    venv_with_pytest: Path) -> None:
    repo = project_repo(make_repo, venv_with_pytest)
    sandbox = LocalSandbox()
    assert str(repo / ".venv" / "bin" / "python") in sandbox.describe(repo)
    with sandbox.open(repo, WorkspaceOptions(bash_timeout=60)) as session:
        result = session.call("run_tests", {})
        assert result.ok and result.data["runner"] == "pytest", result.output
        assert result.data["passed"] == 2 and result.data["failed"] + result.data["errors"] == 0, result.output
        shell = session.call("bash", {"command": "command -v python; echo $VIRTUAL_ENV"})
        assert str(repo / ".venv") in shell.output
        assert session.patch() == ""


def test_an_editable_install_imports_the_agents_copy_not_the_checkout(make_repo: Callable[..., Path],
                                                                      venv_with_pytest: Path) -> None:
    where = ("import os\nimport mypkg\n\n\ndef test_where():\n"
             "    assert os.path.realpath(mypkg.__file__).startswith(os.path.realpath(os.getcwd())), mypkg.__file__\n")
    repo = project_repo(make_repo, venv_with_pytest, {"src/mypkg/__init__.py": "", "tests/test_where.py": where,
                                                      "tests/test_calc.py": "def test_ok():\n    pass\n"})
    site = next((repo / ".venv").glob("lib/python*/site-packages"))
    (site / "_mypkg_editable.pth").write_text(f"{repo / 'src'}\n")  # what `pip install -e .` of a src layout leaves
    with LocalSandbox().open(repo, WorkspaceOptions(bash_timeout=60)) as session:
        result = session.call("run_tests", {})
        assert result.data["passed"] == 2, result.output


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_the_local_sandbox_sees_the_repositorys_node_modules(make_repo: Callable[..., Path]) -> None:
    test = ("const test = require('node:test');\nconst assert = require('assert');\nconst pad = require('leftpad');\n"
            "test('pads', () => assert.equal(pad('7', 3), '007'));\n")
    repo = make_repo({".gitignore": "node_modules/\n", "package.json": json.dumps({"name": "p"}),
                      "test/pad.test.js": test})
    package = repo / "node_modules" / "leftpad"
    package.mkdir(parents=True)
    (package / "index.js").write_text("module.exports = (s, n) => s.padStart(n, '0');\n")
    sandbox = LocalSandbox()
    assert "node_modules linked" in sandbox.describe(repo)
    with sandbox.open(repo, WorkspaceOptions(bash_timeout=60)) as session:
        result = session.call("run_tests", {})
        assert result.data["passed"] == 1, result.output
        session.call("bash", {"command": "mkdir -p node_modules/.cache && echo x > node_modules/.cache/y"})
        assert session.patch() == ""  # the linked folder never reaches the patch
    assert not (repo / "node_modules" / ".cache").exists()  # and build caches stay in the copy


def test_project_false_keeps_coders_own_interpreter(make_repo: Callable[..., Path], tmp_path: Path) -> None:
    repo = make_repo({"calc.py": "x = 1\n"})
    bare_venv(repo / ".venv")
    assert LocalSandbox(project=False).project_env(repo).python is None
    assert os.path.samefile(LocalSandbox().project_env(repo).python or "", repo / ".venv" / "bin" / "python")
