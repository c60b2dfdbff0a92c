"""detect_environment on small temp repos: languages, package manager, install commands, toolchain and cache files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from coder.envs import EnvSpec, describe, detect_environment


def make(tmp_path: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path


def commands(spec: EnvSpec) -> str:
    return "\n".join(spec.install)


def test_requirements_files_are_installed_into_a_venv_with_pytest(tmp_path: Path) -> None:
    spec = detect_environment(make(tmp_path, {"requirements.txt": "six\n", "requirements-dev.txt": "pytest\n",
                                              "requirements-docs.txt": "sphinx\n", "app.py": ""}))
    assert spec.languages == ("python",) and spec.package_manager == "pip" and spec.test_runner == "pytest"
    assert spec.install[0] == "python3 -m venv /opt/coder/env"
    assert "-m pip install -r requirements.txt -r requirements-dev.txt" in commands(spec)
    assert "sphinx" not in commands(spec) and "requirements-docs.txt" not in spec.dependency_files
    assert spec.install[-1].endswith("-m pip install pytest") and "pytest --version" in spec.install[-1]
    assert spec.dependency_files == ("requirements-dev.txt", "requirements.txt") and spec.toolchain == ()


@pytest.mark.parametrize("extra", ["test", "tests", "testing", "dev"])
def test_pyproject_installs_itself_editable_with_its_test_extra(tmp_path: Path, extra: str) -> None:
    pyproject = ('[build-system]\nrequires = ["hatchling"]\nbuild-backend = "hatchling.build"\n'
                 f'[project]\nname = "x"\nversion = "1"\n[project.optional-dependencies]\n{extra} = ["pytest"]\n'
                 'docs = ["sphinx"]\n')
    spec = detect_environment(make(tmp_path, {"pyproject.toml": pyproject}))
    assert f"-m pip install -e '.[{extra}]'" in commands(spec)
    assert any("hatchling.build" in note for note in spec.notes)


def test_test_extra_wins_over_dev(tmp_path: Path) -> None:
    pyproject = '[project]\nname = "x"\nversion = "1"\n[project.optional-dependencies]\ndev = ["a"]\ntest = ["b"]\n'
    assert "-e '.[test]'" in commands(detect_environment(make(tmp_path, {"pyproject.toml": pyproject})))


def test_pyproject_without_a_project_is_not_installed(tmp_path: Path) -> None:
    spec = detect_environment(make(tmp_path, {"pyproject.toml": "[tool.black]\nline-length = 100\n",
                                              "test_x.py": "def test_x(): pass\n"}))
    assert "-e" not in commands(spec) and "pytest" in spec.install[-1]


def test_dependency_group_requirements_are_installed_by_name(tmp_path: Path) -> None:
    pyproject = '[project]\nname = "x"\nversion = "1"\n[dependency-groups]\ntest = ["pytest>=8", {include-group = "x"}]\n'
    assert "-e . 'pytest>=8'" in commands(detect_environment(make(tmp_path, {"pyproject.toml": pyproject})))


def test_setup_py_and_setup_cfg_extras(tmp_path: Path) -> None:
    spec = detect_environment(make(tmp_path, {"setup.py": "setup(extras_require={'tests': ['pytest']})\n"}))
    assert "-e '.[tests]'" in commands(spec)
    cfg = "[metadata]\nname = x\n[options.extras_require]\ntesting = pytest\n"
    other = tmp_path / "cfg"
    other.mkdir()
    assert "-e '.[testing]'" in commands(detect_environment(make(other, {"setup.cfg": cfg})))


def test_uv_lock_syncs_frozen_into_the_venv(tmp_path: Path) -> None:
    spec = detect_environment(make(tmp_path, {"pyproject.toml": '[project]\nname = "x"\nversion = "1"\n',
                                              "uv.lock": "version = 1\n"}))
    assert spec.package_manager == "uv" and "uv.lock" in spec.dependency_files
    assert "UV_PROJECT_ENVIRONMENT=/opt/coder/env /opt/coder/tools/bin/uv sync --frozen" in commands(spec)
    assert "pip install -q uv" in commands(spec)


def test_poetry_lock_installs_with_poetry_and_optional_test_group(tmp_path: Path) -> None:
    pyproject = ('[tool.poetry]\nname = "x"\nversion = "1"\n[tool.poetry.group.test]\noptional = true\n'
                 '[tool.poetry.group.test.dependencies]\npytest = "*"\n')
    spec = detect_environment(make(tmp_path, {"pyproject.toml": pyproject, "poetry.lock": ""}))
    assert spec.package_manager == "poetry"
    assert "POETRY_VIRTUALENVS_CREATE=false /opt/coder/tools/bin/poetry install --no-interaction --with test" \
        in commands(spec)


@pytest.mark.parametrize("locked", [True, False])
def test_pipfile_goes_through_pipenv_requirements(tmp_path: Path, locked: bool) -> None:
    files = {"Pipfile": "[packages]\nsix = '*'\n", **({"Pipfile.lock": "{}"} if locked else {})}
    spec = detect_environment(make(tmp_path, files))
    assert spec.package_manager == "pipenv" and "pipenv requirements --dev" in commands(spec)
    assert ("pipenv lock" in commands(spec)) is not locked


def test_stray_python_tests_get_a_venv_with_pytest(tmp_path: Path) -> None:
    spec = detect_environment(make(tmp_path, {"calc.py": "", "tests/test_calc.py": ""}))
    assert spec.languages == ("python",) and len(spec.install) == 2 and spec.dependency_files == ()


def test_npm_ci_with_a_lockfile_and_npm_install_without(tmp_path: Path) -> None:
    package = json.dumps({"name": "x", "scripts": {"test": "node --test"}})
    spec = detect_environment(make(tmp_path, {"package.json": package, "package-lock.json": "{}"}))
    assert spec.languages == ("node",) and spec.toolchain == ("nodejs", "npm") and spec.test_runner == "node"
    assert spec.install == ("npm ci --no-audit --no-fund",) and "package-lock.json" in spec.dependency_files
    (tmp_path / "package-lock.json").unlink()
    spec = detect_environment(tmp_path)
    assert spec.install == ("npm install --no-audit --no-fund",) and any("lockfile" in n for n in spec.notes)


def test_pnpm_version_follows_the_lockfile_or_package_manager(tmp_path: Path) -> None:
    spec = detect_environment(make(tmp_path, {"package.json": "{}", "pnpm-lock.yaml": "lockfileVersion: '6.0'\n"}))
    assert spec.package_manager == "pnpm"
    assert spec.install == ("npm install -g --prefix /opt/coder/node --no-audit --no-fund pnpm@8",
                            "/opt/coder/node/bin/pnpm install --frozen-lockfile")
    (tmp_path / "package.json").write_text(json.dumps({"packageManager": "pnpm@9.1.0+sha512.abc"}))
    assert "pnpm@9.1.0" in detect_environment(tmp_path).install[0]


def test_yarn_classic_and_berry(tmp_path: Path) -> None:
    spec = detect_environment(make(tmp_path, {"package.json": "{}", "yarn.lock": "# yarn lockfile v1\n"}))
    assert spec.install[-1] == "/opt/coder/node/bin/yarn install --frozen-lockfile" and "yarn@1" in spec.install[0]
    (tmp_path / "yarn.lock").write_text("__metadata:\n  version: 6\n")
    assert detect_environment(tmp_path).install[-1] == "/opt/coder/node/bin/yarn install --immutable"
    (tmp_path / ".yarnrc.yml").write_text("yarnPath: .yarn/releases/yarn-4.0.2.cjs\n")
    assert detect_environment(tmp_path).install == ("node .yarn/releases/yarn-4.0.2.cjs install --immutable",)


def test_go_module(tmp_path: Path) -> None:
    spec = detect_environment(make(tmp_path, {"go.mod": "module x\n\ngo 1.22\n", "go.sum": ""}))
    assert spec.languages == ("go",) and spec.toolchain == ("golang-go",) and spec.test_runner == "go"
    assert spec.install[0] == "go mod download" and spec.dependency_files == ("go.mod", "go.sum")
    assert any("Go 1.22" in note and "1.19" in note for note in spec.notes)


def test_cargo_crate_is_vendored(tmp_path: Path) -> None:
    spec = detect_environment(make(tmp_path, {"Cargo.toml": "[package]\nname = 'x'\n", "Cargo.lock": "",
                                              "crates/a/Cargo.toml": ""}))
    assert spec.languages == ("rust",) and spec.toolchain == ("cargo",) and spec.package_manager == "cargo"
    assert spec.install[0].startswith("cargo vendor") and "crates/a/Cargo.toml" in spec.dependency_files


def test_java_is_said_to_be_unsupported(tmp_path: Path) -> None:
    spec = detect_environment(make(tmp_path, {"pom.xml": "<project/>"}))
    assert spec.languages == () and spec.install == ()
    assert any("Java (Maven)" in note and "not supported yet" in note and "sandbox.setup" in note
               for note in spec.notes)
    assert "no language detected" in describe(spec)


def test_several_languages_share_one_toolchain(tmp_path: Path) -> None:
    spec = detect_environment(make(tmp_path, {"pyproject.toml": '[project]\nname = "x"\nversion = "1"\n',
                                              "package.json": "{}", "go.mod": "module x\n"}))
    assert spec.languages == ("python", "node", "go") and spec.package_manager == "pip+npm+go"
    assert spec.toolchain == ("golang-go", "nodejs", "npm") and spec.test_runner == "pytest"


def test_user_setup_replaces_the_detected_install(tmp_path: Path) -> None:
    spec = detect_environment(make(tmp_path, {"requirements.txt": "six\n", "go.mod": "module x\n"}),
                              setup="pip install six")
    assert spec.install == () and spec.setup == "pip install six" and spec.setup_command == "pip install six"
    assert spec.toolchain == ("golang-go",) and "requirements.txt" in spec.dependency_files
    assert any("replaces the detected install" in note for note in spec.notes)


def test_dependency_folders_are_not_walked(tmp_path: Path) -> None:
    spec = detect_environment(make(tmp_path, {"node_modules/x/test_y.py": "", ".venv/lib/test_z.py": ""}))
    assert spec.languages == () and spec.install == ()


def test_the_shown_command_reads_as_the_build_runs_it() -> None:
    # each step runs on its own and must succeed: `a && b || c` would read as if c rescued a failed b
    spec = EnvSpec(install=("python3 -m venv /e", "pip install -r r.txt", "pytest --version || pip install pytest"))
    assert spec.setup_command == "python3 -m venv /e && pip install -r r.txt && (pytest --version || pip install pytest)"
