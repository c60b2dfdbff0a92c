"""Detect a repository's languages, package managers, install commands and test runner from its own files (pure)."""

from __future__ import annotations

import configparser
import json
import os
import re
import shlex
import tomllib
from pathlib import Path
from typing import Any

from .spec import EnvSpec

VENV = "/opt/coder/env"  # the project's virtualenv (owned by uid 1000 at build time, read-only at run time)
TOOLS = "/opt/coder/tools"  # a separate venv for uv / poetry / pipenv, so they do not land in the project's env
NODE_PREFIX = "/opt/coder/node"  # npm -g --prefix for pnpm / yarn
GOMODCACHE = "/opt/coder/go/mod"
CARGO_HOME = "/opt/coder/cargo"
TEST_EXTRAS = ("test", "tests", "testing", "dev")
SKIP_DIRS = {".git", "node_modules", ".venv", "venv", "__pycache__", "target", "vendor", ".tox", "dist", "build"}
PYTEST_CHECK = f"{VENV}/bin/python -m pytest --version >/dev/null 2>&1 || {VENV}/bin/python -m pip install pytest"


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def _toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(_read(path))
    except tomllib.TOMLDecodeError:
        return {}


def _walk(repo: Path, limit: int = 5000) -> list[str]:
    """Repo-relative file paths, skipping dependency and build folders; at most LIMIT."""
    found: list[str] = []
    for top, dirs, files in os.walk(repo):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not d.startswith("."))
        rel_top = os.path.relpath(top, repo)
        for name in sorted(files):
            found.append(name if rel_top == "." else f"{rel_top}/{name}")
            if len(found) >= limit:
                return found
    return found


class _Part:
    """One language's share of the spec."""

    def __init__(self, language: str, manager: str, runner: str) -> None:
        self.language, self.manager, self.runner = language, manager, runner
        self.install: list[str] = []
        self.toolchain: list[str] = []
        self.files: list[str] = []
        self.notes: list[str] = []


# ---------------------------------------------------------------- Python


def _extras(repo: Path, pyproject: dict[str, Any]) -> list[str]:
    project = pyproject.get("project") or {}
    names = list((project.get("optional-dependencies") or {}).keys())
    names += list(((pyproject.get("tool") or {}).get("poetry") or {}).get("extras", {}).keys())
    cfg = configparser.ConfigParser(interpolation=None)
    try:
        cfg.read_string(_read(repo / "setup.cfg"))
        if cfg.has_section("options.extras_require"):
            names += list(cfg["options.extras_require"].keys())
    except configparser.Error:
        pass
    setup_py = _read(repo / "setup.py")
    if "extras_require" in setup_py:
        names += re.findall(r"""["'](\w+)["']\s*:""", setup_py.split("extras_require", 1)[1][:2000])
    return names


def _group_requirements(pyproject: dict[str, Any]) -> tuple[str, list[str]] | None:
    """A PEP 735 test/dev dependency group as plain requirement strings (pip in the sandbox predates --group)."""
    groups = pyproject.get("dependency-groups") or {}
    for name in TEST_EXTRAS:
        items = groups.get(name)
        if isinstance(items, list):
            return name, [item for item in items if isinstance(item, str)]
    return None


def _installable(repo: Path, pyproject: dict[str, Any]) -> bool:
    if (repo / "setup.py").is_file():
        return True
    if any(key in pyproject for key in ("project", "build-system")) or "poetry" in (pyproject.get("tool") or {}):
        return True
    return "[metadata]" in _read(repo / "setup.cfg")


def _requirement_files(repo: Path) -> list[str]:
    names = sorted(p.name for p in repo.glob("*requirements*.txt") if p.is_file() and "doc" not in p.name.lower())
    names.sort(key=lambda n: (n != "requirements.txt", n))
    folder = repo / "requirements"
    if folder.is_dir():
        names += sorted(f"requirements/{p.name}" for p in folder.glob("*.txt") if "doc" not in p.name.lower())
    return names


def _python(repo: Path, files: list[str]) -> _Part | None:
    markers = [n for n in ("pyproject.toml", "setup.py", "setup.cfg", "uv.lock", "poetry.lock", "Pipfile",
                           "Pipfile.lock") if (repo / n).is_file()]
    requirements = _requirement_files(repo)
    tests = [f for f in files if f.endswith(".py") and (os.path.basename(f).startswith("test_")
                                                       or f.endswith("_test.py") or f.endswith("conftest.py"))]
    if not markers and not requirements and not tests:
        return None
    pyproject = _toml(repo / "pyproject.toml")
    extras = _extras(repo, pyproject)
    extra = next((name for name in TEST_EXTRAS if name in extras), None)
    venv = f"python3 -m venv {VENV}"
    part = _Part("python", "pip", "pytest")
    part.files = markers + requirements
    pip = f"{VENV}/bin/python -m pip install"
    if (repo / "uv.lock").is_file():
        part.manager = "uv"
        flags = f" --extra {extra}" if extra else ""
        part.install = [venv, f"python3 -m venv {TOOLS} && {TOOLS}/bin/pip install -q uv",
                        f"UV_PROJECT_ENVIRONMENT={VENV} {TOOLS}/bin/uv sync --frozen --python {VENV}/bin/python{flags}",
                        f"{VENV}/bin/python -m pytest --version >/dev/null 2>&1 || "
                        f"{TOOLS}/bin/uv pip install --python {VENV}/bin/python pytest"]
        part.notes.append("uv.lock: installed with `uv sync --frozen`")
        return part
    if (repo / "poetry.lock").is_file():
        part.manager = "poetry"
        groups = ((pyproject.get("tool") or {}).get("poetry") or {}).get("group") or {}
        with_ = [g for g in TEST_EXTRAS if isinstance(groups.get(g), dict) and groups[g].get("optional")]
        flags = (f" --with {','.join(with_)}" if with_ else "") + (f" --extras {extra}" if extra else "")
        part.install = [venv, f"python3 -m venv {TOOLS} && {TOOLS}/bin/pip install -q poetry",
                        f"VIRTUAL_ENV={VENV} POETRY_VIRTUALENVS_CREATE=false {TOOLS}/bin/poetry install "
                        f"--no-interaction{flags}", PYTEST_CHECK]
        part.notes.append("poetry.lock: installed with `poetry install` into the environment's venv")
        return part
    if (repo / "Pipfile").is_file():
        part.manager = "pipenv"
        lock = [] if (repo / "Pipfile.lock").is_file() else [f"{TOOLS}/bin/pipenv lock"]
        part.install = [venv, f"python3 -m venv {TOOLS} && {TOOLS}/bin/pip install -q pipenv", *lock,
                        f"{TOOLS}/bin/pipenv requirements --dev > /tmp/coder-pipenv-requirements.txt",
                        f"{pip} -r /tmp/coder-pipenv-requirements.txt", PYTEST_CHECK]
        part.notes.append("Pipfile: its locked packages (dev included) installed with pip")
        return part
    args = [f"-r {shlex.quote(name)}" for name in requirements]
    if _installable(repo, pyproject):
        target = f".[{extra}]" if extra else "."
        args.append(f"-e {shlex.quote(target)}")
        backend = (pyproject.get("build-system") or {}).get("build-backend") or "setuptools (legacy)"
        part.notes.append(f"installable project (build backend: {backend})"
                          + (f", with its `{extra}` extra" if extra else ""))
    elif "pyproject.toml" in markers:
        part.notes.append("pyproject.toml declares no project or build system: not installed itself")
    group = None if extra else _group_requirements(pyproject)
    if group:
        args += [shlex.quote(r) for r in group[1]]
        part.notes.append(f"dependency group `{group[0]}` installed by its requirement strings")
    part.install = [venv, *([f"{pip} {' '.join(args)}"] if args else []), PYTEST_CHECK]
    if requirements:
        part.notes.append("requirements: " + ", ".join(requirements))
    return part


# ---------------------------------------------------------------- JavaScript / TypeScript


def _package_manager_field(package: dict[str, Any]) -> tuple[str, str | None]:
    value = package.get("packageManager")
    if isinstance(value, str) and "@" in value:
        name, _, version = value.partition("@")
        return name, version.split("+", 1)[0] or None
    return "", None


def _pnpm_version(repo: Path, pinned: str | None) -> str:
    if pinned:
        return pinned
    match = re.search(r"lockfileVersion:\s*'?(\d+)", _read(repo / "pnpm-lock.yaml"))
    major = int(match.group(1)) if match else 9
    return {5: "7", 6: "8"}.get(major, "9")


def _node(repo: Path, files: list[str]) -> _Part | None:
    if not (repo / "package.json").is_file():
        return None
    try:
        package = json.loads(_read(repo / "package.json"))
    except json.JSONDecodeError:
        package = {}
    package = package if isinstance(package, dict) else {}
    scripts = package.get("scripts")
    scripts = scripts if isinstance(scripts, dict) else {}
    test = str(scripts.get("test") or "")
    part = _Part("node", "npm", "node" if "node --test" in test else "npm")
    part.toolchain = ["nodejs", "npm"]
    part.files = ["package.json"] + [f for f in files if f.endswith("/package.json")][:50]
    part.files += [n for n in (".npmrc", ".yarnrc", ".yarnrc.yml", "pnpm-workspace.yaml") if (repo / n).is_file()]
    named, pinned = _package_manager_field(package)
    prefix = f"npm install -g --prefix {NODE_PREFIX} --no-audit --no-fund"
    if (repo / "pnpm-lock.yaml").is_file() or named == "pnpm":
        part.manager = "pnpm"
        part.files += [n for n in ("pnpm-lock.yaml",) if (repo / n).is_file()]
        frozen = " --frozen-lockfile" if (repo / "pnpm-lock.yaml").is_file() else ""
        part.install = [f"{prefix} pnpm@{_pnpm_version(repo, pinned)}", f"{NODE_PREFIX}/bin/pnpm install{frozen}"]
    elif (repo / "yarn.lock").is_file() or named == "yarn":
        part.manager = "yarn"
        part.files += [n for n in ("yarn.lock",) if (repo / n).is_file()]
        berry = "__metadata:" in _read(repo / "yarn.lock") or bool(pinned and not pinned.startswith("1"))
        yarn_path = re.search(r"^yarnPath:\s*(\S+)", _read(repo / ".yarnrc.yml"), re.MULTILINE)
        if berry and yarn_path:
            part.install = [f"node {shlex.quote(yarn_path.group(1))} install --immutable"]
        elif berry:
            part.install = [f"{prefix} @yarnpkg/cli-dist@{pinned or '4'}", f"{NODE_PREFIX}/bin/yarn install --immutable"]
        else:
            part.install = [f"{prefix} yarn@{pinned or '1'}", f"{NODE_PREFIX}/bin/yarn install --frozen-lockfile"]
    elif any((repo / n).is_file() for n in ("package-lock.json", "npm-shrinkwrap.json")):
        part.files += [n for n in ("package-lock.json", "npm-shrinkwrap.json") if (repo / n).is_file()]
        part.install = ["npm ci --no-audit --no-fund"]
    else:
        part.install = ["npm install --no-audit --no-fund"]
        part.notes.append("package.json without a lockfile: versions resolved at build time (`npm install`)")
    if (repo / "bun.lockb").is_file() or (repo / "bun.lock").is_file():
        part.notes.append("bun lockfile: bun is not supported yet; installed with " + part.manager)
    return part


# ---------------------------------------------------------------- Go, Rust, the rest


def _go(repo: Path) -> _Part | None:
    if not (repo / "go.mod").is_file():
        return None
    part = _Part("go", "go", "go")
    part.toolchain = ["golang-go"]
    part.files = [n for n in ("go.mod", "go.sum", "go.work", "go.work.sum") if (repo / n).is_file()]
    part.install = ["go mod download", "go list -e -deps -test ./... >/dev/null"]
    version = re.search(r"^go\s+(\d+)\.(\d+)", _read(repo / "go.mod"), re.MULTILINE)
    if version and (int(version.group(1)), int(version.group(2))) > (1, 19):
        part.notes.append(f"go.mod asks for Go {version.group(1)}.{version.group(2)}; the toolchain is Debian "
                          "bookworm's Go 1.19 (set sandbox.setup to install a newer Go if the build fails)")
    return part


def _rust(repo: Path) -> _Part | None:
    if not (repo / "Cargo.toml").is_file():
        return None
    part = _Part("rust", "cargo", "cargo")
    part.toolchain = ["cargo"]
    part.files = [n for n in ("Cargo.toml", "Cargo.lock", "rust-toolchain", "rust-toolchain.toml")
                  if (repo / n).is_file()]
    part.files += [f for f in _walk(repo) if f.endswith("/Cargo.toml")][:50]
    part.install = [f"cargo vendor --quiet {CARGO_HOME}/vendor > {CARGO_HOME}/config.toml",
                    f"rm -rf {CARGO_HOME}/registry {CARGO_HOME}/git"]
    part.notes.append("crates vendored into the image (cargo vendor): tests run with --offline sources")
    return part


_UNSUPPORTED = {"pom.xml": "Java (Maven)", "build.gradle": "Java (Gradle)", "build.gradle.kts": "Java (Gradle)",
                "Gemfile": "Ruby", "composer.json": "PHP", "mix.exs": "Elixir"}


def detect_environment(repo: Path, setup: str | None = None) -> EnvSpec:
    """What REPO needs to run its tests, from its own files; SETUP (the user's sandbox.setup) replaces the install."""
    files = _walk(repo)
    parts = [p for p in (_python(repo, files), _node(repo, files), _go(repo), _rust(repo)) if p is not None]
    notes = [note for part in parts for note in part.notes]
    for name, what in _UNSUPPORTED.items():
        if (repo / name).is_file():
            notes.append(f"{what} ({name}) is not supported yet: set sandbox.setup to install its dependencies "
                         "and tests.command to run its tests")
    install = tuple(cmd for part in parts for cmd in part.install)
    if setup and setup.strip():
        notes.append("sandbox.setup replaces the detected install" + (f" ({' && '.join(install)})" if install else ""))
        install = ()
    return EnvSpec(
        languages=tuple(p.language for p in parts),
        package_manager="+".join(p.manager for p in parts) or "none",
        install=install,
        setup=setup.strip() if setup and setup.strip() else None,
        toolchain=tuple(sorted({pkg for p in parts for pkg in p.toolchain})),
        dependency_files=tuple(sorted({f for p in parts for f in p.files})),
        test_runner=parts[0].runner if parts else "unknown",
        notes=tuple(notes),
    )


def describe(spec: EnvSpec) -> str:
    """One line for the user: what was detected."""
    if not spec.languages and not spec.setup:
        return "environment: no language detected (nothing to install)"
    langs = ", ".join(spec.languages) or "no language detected"
    return f"environment: {langs} via {spec.package_manager}; tests: {spec.test_runner}; install: {spec.setup_command}"
