"""Judge the baseline test run before any model call: tests that cannot run here stop the run, naming the fix."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from coder_tools.base import ToolResult

__all__ = ["PREFIX", "ESCAPE", "Problem", "judge", "is_preflight_message"]

PREFIX = "the tests cannot run here: "
ESCAPE = "(agent.baseline_tests = false skips this check)"
_SKIP_DIRS = {".git", "node_modules", "venv", ".venv", "env", "__pycache__", "build", "dist", "target", "vendor",
              "site-packages", ".tox", ".nox"}
_WALK_LIMIT = 20_000

_PY_MISSING = re.compile(r"No module named '([\w.]+)'")
_NODE_MISSING = re.compile(r"Cannot find (?:module|package) '([^']+)'")
_GO_MISSING = re.compile(r"(?:cannot find module providing package|no required module provides package|"
                         r"missing go\.sum entry for module providing package) ([^\s;:]+)")
_GO_SUM = re.compile(r"missing go\.sum entry")
_CARGO_FETCH = re.compile(r"failed to get `([^`]+)` as a dependency|failed to load source for dependency `([^`]+)`|"
                          r"no matching package named `([^`]+)` found|failed to download|Unable to update registry|"
                          r"--offline was specified|failed to select a version for the requirement `([^`=]+)")
_SHARED_LIB = re.compile(r"([\w.+-]+\.so(?:\.\d+)*): cannot open shared object file")
_NOT_FOUND = re.compile(r"\bsh: (?:\d+: )?(?:line \d+: )?([\w./+-]+): (?:command )?not found|"
                        r"(?:^|\n)([\w./+-]+): command not found")
_UNRECOGNIZED = re.compile(r"error: unrecognized arguments: ([^\n]+)")


@dataclass(frozen=True)
class Problem:
    """Why the tests cannot run, as one line for the user that starts with PREFIX and names the fix."""

    kind: str  # no_runner | runner_missing | no_tests | pytest_missing | missing_module | repo_not_installed
    #            | missing_library | missing_program | fetch_failed | runner_usage
    message: str


def is_preflight_message(message: str) -> bool:
    """Whether a run's final message is a preflight stop (for surfaces that want to say more)."""
    return message.startswith(PREFIX)


def _problem(kind: str, cause: str, fix: str) -> Problem:
    return Problem(kind, " ".join(f"{PREFIX}{cause}; {fix} {ESCAPE}".split()))


def judge(result: ToolResult, repo: Path | None = None) -> Problem | None:
    """None when the baseline run found tests it could run; else the Problem that should stop the run.

    REPO (the host's checkout) tells the repository's own modules from third-party ones: a test failing because the
    repository's own code is broken is the agent's work, never an environment problem."""
    data = result.data
    runner, command = data.get("runner"), str(data.get("command") or "")
    if runner is None:
        return _problem("no_runner", "no test runner was detected in the repository",
                        "set tests.command to the command that runs its tests (e.g. `pytest -q`, `npm test`)")
    if "exit_code" not in data:  # the runner's program could not be started
        return _problem("runner_missing", f"the {runner} runner could not start (`{command}`: not found)",
                        "install its toolchain (sandbox.setup, or the project's environment) or set tests.command")
    code = data.get("exit_code")
    if code is None:  # a timeout: maybe the bug itself (a hang); the agent can run a subset
        return None
    note = str(data.get("note") or "")
    if runner == "unittest" and "pytest is not installed" in note:
        return _problem("pytest_missing", "the tests are written for pytest, but pytest is not installed for the "
                        "sandbox's Python (unittest ran instead and cannot see them)",
                        "install pytest in the project's environment (add it to the test dependencies, or "
                        "sandbox.setup = \"pip install pytest\") or set tests.command")
    tests: dict[str, str] = dict(data.get("tests") or {})
    notes = [str(f.get("message", "")) for f in data.get("failures") or [] if isinstance(f, dict)]
    text = result.output
    per_test = runner not in ("command", "npm")
    if per_test and tests:
        failing = [t for t, s in tests.items() if s in ("failed", "error")]
        if any(s == "passed" for s in tests.values()) or not failing or len(notes) < len(failing):
            return None
        found = [_environment_cause(n, repo, runner) for n in notes]
        if all(found):  # every failing test fails for a reason outside the repository
            return found[0]
        return None
    if per_test and code in (0, 5):
        return _problem("no_tests", f"`{command}` found no tests (exit code {code})",
                        "check the tests are where the runner looks, or set tests.command to the command that runs them")
    cause = _environment_cause(text, repo, runner)
    if cause is not None:
        return cause
    if not per_test and code == 127:
        return _problem("missing_program", f"`{command}` exited with 127 (command not found)",
                        "install the program it runs (sandbox.setup, or the project's environment) or fix tests.command")
    if runner == "node" and code == 0 and "# tests 0" in text:
        return _problem("no_tests", f"`{command}` found no tests", "set tests.command to the command that runs them")
    return None  # the run failed for a reason the agent can read in the output (e.g. a broken conftest.py)


def _environment_cause(text: str, repo: Path | None, runner: str) -> Problem | None:
    """The first cause in TEXT that lies outside the repository (missing package, program, library), or None."""
    any_runner = runner == "command"
    if any_runner or runner in ("pytest", "unittest"):
        for match in _PY_MISSING.finditer(text):
            problem = _python_missing(match.group(1), match.group(0), repo)
            if problem is not None:
                return problem
    if any_runner or runner in ("node", "npm"):
        for match in _NODE_MISSING.finditer(text):
            problem = _node_missing(match.group(1), repo)
            if problem is not None:
                return problem
    if any_runner or runner == "go":
        go = _GO_MISSING.search(text)
        if go is not None and (_GO_SUM.search(go.group(0)) or not _own_go_package(go.group(1), repo)):
            return _problem("missing_module", f"the Go module providing `{go.group(1)}` is not available "
                            f"({go.group(0)})", "add it to go.mod/go.sum (`go mod tidy`) and download it when the "
                            "environment is built (sandbox.setup = \"go mod download\") or set tests.command")
        if go is None and _GO_SUM.search(text):
            return _problem("missing_module", "go.sum is missing entries for the module's dependencies",
                            "run `go mod tidy` and commit go.sum, or set sandbox.setup / tests.command")
    cargo = _CARGO_FETCH.search(text) if any_runner or runner == "cargo" else None
    if cargo is not None:
        crate = next((g for g in cargo.groups() if g), None)
        what = f"the crate `{crate}`" if crate else "the crates it depends on"
        return _problem("fetch_failed", f"cargo could not fetch {what} (the sandbox has no network)",
                        "fetch or vendor the dependencies when the environment is built "
                        "(sandbox.setup = \"cargo fetch\") or set tests.command")
    lib = _SHARED_LIB.search(text)
    if lib is not None:
        return _problem("missing_library", f"the system library {lib.group(1)} is missing",
                        "install the system package that provides it (sandbox.setup, e.g. `apt-get install ...`)")
    unknown = _UNRECOGNIZED.search(text)
    if unknown is not None and runner == "pytest":
        return _problem("runner_usage", f"pytest does not know the option(s) {unknown.group(1).strip()} "
                        "(a pytest plugin named in the project's configuration is not installed)",
                        "install the plugin (e.g. pytest-cov for --cov) in the project's environment or set "
                        "tests.command")
    missing = _NOT_FOUND.search(text) if any_runner or runner == "npm" else None
    if missing is not None:
        program = next(g for g in missing.groups() if g)
        return _problem("missing_program", f"the program `{program}` is not installed",
                        "install it (the project's dependencies, sandbox.setup) or fix tests.command")
    return None


def _python_missing(module: str, said: str, repo: Path | None) -> Problem | None:
    top = module.split(".")[0]
    if repo is None:
        own_top, own_full = False, False
    else:
        names = _repo_names(repo)
        own_top = top in names
        own_full = _module_in_repo(module, repo)
    if own_top and not own_full:  # a module of the repository's own package that does not exist (yet): agent's work
        return None
    if own_full:
        return _problem("repo_not_installed", f"the repository's own module '{module}' exists but cannot be "
                        f"imported ({said})", "install the project into its environment (e.g. `pip install -e .` "
                        "in sandbox.setup or the project's virtualenv) or set tests.command (e.g. with PYTHONPATH=src)")
    return _problem("missing_module", f"every test fails because the Python module '{top}' is not installed "
                    f"({said})", f"add the package that provides it to the project's dependencies, install it with "
                    f"sandbox.setup (e.g. `pip install {_DISTRIBUTIONS.get(top, top)}`) or in the project's virtualenv, or "
                    "set tests.command")


# Import names whose package on the index is named differently (the common ones), for the suggested install command.
_DISTRIBUTIONS = {"yaml": "PyYAML", "PIL": "Pillow", "cv2": "opencv-python", "sklearn": "scikit-learn",
                  "bs4": "beautifulsoup4", "dateutil": "python-dateutil", "dotenv": "python-dotenv",
                  "jwt": "PyJWT", "attr": "attrs", "serial": "pyserial", "magic": "python-magic",
                  "Crypto": "pycryptodome", "OpenSSL": "pyOpenSSL",
                  "git": "GitPython", "docx": "python-docx", "fitz": "PyMuPDF", "zmq": "pyzmq"}


def _node_missing(spec: str, repo: Path | None) -> Problem | None:
    if spec.startswith((".", "/")) or re.match(r"^[A-Za-z]:[\\/]", spec):
        return None  # a file of the repository (or a path the tests build): the agent's work
    parts = spec.split("/")
    package = "/".join(parts[:2]) if spec.startswith("@") else parts[0]
    if repo is not None and package == _package_json_name(repo):
        return None
    return _problem("missing_module", f"every test fails because the node package '{package}' is not installed "
                    f"(Cannot find module '{spec}')", "add it to package.json and install the dependencies "
                    "(`npm ci` in sandbox.setup, or node_modules in the repository) or set tests.command")


def _repo_names(repo: Path) -> set[str]:
    """Every folder name and Python file stem in the repository: what a top-level import of its own code could name."""
    names: set[str] = set()
    for _, dirnames, filenames in _walk(repo):
        names.update(dirnames)
        names.update(name.split(".")[0] for name in filenames if name.endswith((".py", ".pyi", ".so", ".pyd")))
    return names


def _module_in_repo(module: str, repo: Path) -> bool:
    """Whether the dotted MODULE exists as a file or package somewhere in the repository (root, src/, ...)."""
    rel = Path(*module.split("."))
    for dirpath, _dirnames, _ in _walk(repo):
        base = Path(dirpath)
        if (base / rel).is_dir() or (base / rel.with_suffix(".py")).is_file():
            return True
    return False


def _walk(repo: Path) -> Iterable[tuple[str, list[str], list[str]]]:
    count = 0
    for dirpath, dirnames, filenames in os.walk(repo):
        dirnames[:] = [d for d in dirnames if not d.startswith(".") and d not in _SKIP_DIRS]
        count += len(filenames) + 1
        if count > _WALK_LIMIT:
            return
        yield dirpath, dirnames, filenames


def _package_json_name(repo: Path) -> str | None:
    try:
        data: Any = json.loads((repo / "package.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data.get("name") if isinstance(data, dict) and isinstance(data.get("name"), str) else None


def _own_go_package(package: str, repo: Path | None) -> bool:
    if repo is None:
        return False
    try:
        text = (repo / "go.mod").read_text(encoding="utf-8")
    except OSError:
        return False
    found = re.search(r"^module\s+(\S+)", text, re.MULTILINE)
    return found is not None and (package == found.group(1) or package.startswith(found.group(1) + "/"))
