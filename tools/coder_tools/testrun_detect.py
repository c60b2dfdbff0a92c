"""Find how a repository runs its tests: a configured command, pytest, unittest, node --test / npm, go test or cargo test."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from .identity import become_command_user

SKIP_DIRS = {
    "node_modules", "venv", "env", "__pycache__", "build", "dist", "target", "vendor", "site-packages",
}
WALK_LIMIT = 20_000  # files looked at before detection gives up walking
_ENV_ASSIGN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
_SHELL_OPS = ("&&", "||", "|", ";", ">", "<", "`", "$(")
NPM_PLACEHOLDER = "no test specified"
PYTHON_MARKERS = ("pyproject.toml", "setup.py", "setup.cfg", "pytest.ini", "tox.ini", "conftest.py", "requirements.txt")
LOOKED_FOR = (
    "a configured test command, pytest config (pyproject [tool.pytest.ini_options], pytest.ini, "
    "setup.cfg [tool:pytest], tox.ini [pytest], conftest.py), Python test files (test_*.py, *_test.py), "
    "package.json with a test script or *.test.js files, go.mod, Cargo.toml"
)


@dataclass(frozen=True)
class Runner:
    """A detected way to run the tests: kind plus the base command (argv, or a shell line for 'command')."""

    kind: str  # pytest | unittest | node | npm | go | cargo | command
    argv: tuple[str, ...] = ()
    shell: str | None = None
    start_dir: str = "."  # unittest discovery start
    env: dict[str, str] = field(default_factory=dict)  # VAR=value prefixes of an npm script
    note: str = ""  # said with every result, e.g. why a fallback runner was chosen


def iter_files(root: Path) -> Iterator[Path]:
    """Repository files (relative), skipping VCS, hidden, dependency and build folders."""
    count = 0
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and d not in SKIP_DIRS)
        for name in sorted(filenames):
            count += 1
            if count > WALK_LIMIT:
                return
            yield Path(dirpath, name).relative_to(root)


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def _pytest_configured(root: Path) -> bool:
    if (root / "pytest.ini").is_file() or (root / "conftest.py").is_file():
        return True
    if "[tool.pytest" in _read(root / "pyproject.toml"):
        return True
    return "[tool:pytest]" in _read(root / "setup.cfg") or "[pytest]" in _read(root / "tox.ini")


def pytest_available(python: str) -> bool:
    """Whether PYTHON (the repository's interpreter) can import pytest."""
    if python == sys.executable:
        return importlib.util.find_spec("pytest") is not None
    probe = "import importlib.util, sys; sys.exit(importlib.util.find_spec('pytest') is None)"
    try:
        return subprocess.run([python, "-c", probe], capture_output=True, timeout=30, stdin=subprocess.DEVNULL,
                              preexec_fn=become_command_user).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def _python_runner(root: Path, python: str) -> Runner | None:
    files = [p for p in iter_files(root) if p.suffix == ".py"]
    pytest_files = [p for p in files if p.name.startswith("test_") or p.name.endswith("_test.py")]
    unittest_files = [p for p in files if p.name.startswith("test")]
    has_conftest = any(p.name == "conftest.py" for p in files)
    importable = pytest_available(python)
    if importable and (_pytest_configured(root) or has_conftest or pytest_files):
        return Runner("pytest", (python, "-m", "pytest"))
    if unittest_files:
        note = ""
        if not importable and (_pytest_configured(root) or has_conftest or _pytest_style(root, pytest_files)):
            note = ("pytest is not installed for this Python, so the tests ran with unittest, which only finds "
                    "unittest.TestCase tests. Install pytest (in Docker: set sandbox.setup, e.g. `pip install pytest` "
                    "or `pip install -e .[test]`) or set tests.command.")
        return Runner("unittest", (python,), start_dir=_unittest_start(root), note=note)
    return None


def _pytest_style(root: Path, files: list[Path]) -> bool:
    """Test files written for pytest (bare test functions or `import pytest`), which unittest cannot find."""
    for path in files[:200]:
        text = _read(root / path)
        if "import pytest" in text or re.search(r"^def test_", text, re.MULTILINE):
            return True
    return False


def _unittest_start(root: Path) -> str:
    """Discovery only recurses into packages, so start inside a tests/ folder that is not one."""
    if any(p.is_file() for p in root.glob("test*.py")):
        return "."
    for name in ("tests", "test"):
        folder = root / name
        if folder.is_dir() and not (folder / "__init__.py").is_file():
            return name
    return "."


def runner_from_command(command: str) -> Runner:
    """A configured command; known shapes (pytest, go test, node --test, cargo test) keep per-test results."""
    try:
        tokens = shlex.split(command)
    except ValueError:
        return Runner("command", shell=command)
    if any(op in command for op in _SHELL_OPS):
        return Runner("command", shell=command)
    env: dict[str, str] = {}
    while tokens and _ENV_ASSIGN.match(tokens[0]):
        key, _, value = tokens.pop(0).partition("=")
        env[key] = value
    if not tokens:
        return Runner("command", shell=command)
    head = Path(tokens[0]).name
    if head == "pytest" or (head.startswith("python") and tokens[1:3] == ["-m", "pytest"]):
        return Runner("pytest", tuple(tokens), env=env)
    if head == "go" and tokens[1:2] == ["test"]:
        argv = tokens if "-json" in tokens else [tokens[0], "test", "-json", *tokens[2:]]
        return Runner("go", tuple(argv), env=env)
    if head in ("node", "nodejs") and "--test" in tokens:
        return Runner("node", tuple(tokens), env=env)
    if head == "cargo" and tokens[1:2] == ["test"]:
        return Runner("cargo", tuple(tokens), env=env)
    return Runner("command", shell=command)


def _node_runner(root: Path) -> Runner | None:
    package = root / "package.json"
    if not package.is_file():
        return Runner("node", ("node", "--test")) if _has_node_tests(root) else None
    try:
        scripts = json.loads(_read(package)).get("scripts") or {}
    except (json.JSONDecodeError, AttributeError):
        scripts = {}
    script = scripts.get("test") if isinstance(scripts, dict) else None
    if isinstance(script, str) and script.strip() and NPM_PLACEHOLDER not in script:
        runner = runner_from_command(script)
        return runner if runner.kind == "node" else Runner("npm", ("npm", "test"))
    return Runner("node", ("node", "--test")) if _has_node_tests(root) else None


def _has_node_tests(root: Path) -> bool:
    return any(re.search(r"(^|[._-])test\.[cm]?js$", p.name) for p in iter_files(root))


def detect(root: Path, configured: str | None, python: str) -> Runner | None:
    """The runner for this repository; None when nothing is recognised.

    Order: the configured command; Python (pytest, else unittest) when the root has a Python project file;
    package.json (node --test or npm test); go.mod; Cargo.toml; then Python test files found anywhere.
    """
    if configured and configured.strip():
        return runner_from_command(configured.strip())
    python_project = any((root / name).is_file() for name in PYTHON_MARKERS)
    if python_project:  # a Python project: its Python tests win over a package.json for docs tooling
        runner = _python_runner(root, python)
        if runner is not None:
            return runner
    runner = _node_runner(root)
    if runner is None and (root / "go.mod").is_file():
        runner = Runner("go", ("go", "test", "-json", "./..."))
    if runner is None and (root / "Cargo.toml").is_file():
        runner = Runner("cargo", ("cargo", "test"))
    if runner is None and not python_project:  # stray test*.py files count only when nothing else matched
        runner = _python_runner(root, python)
    return runner
