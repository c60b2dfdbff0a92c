"""The project's own environment for the local sandbox: its virtualenv (active, .venv/venv, uv, poetry) and node_modules.

The local sandbox runs the tests with the interpreter the user's own `pytest` would use, never silently with coder's:

1. the active virtualenv ($VIRTUAL_ENV), unless it is coder's own (coder installed in its own venv and run from it);
2. the repository's virtualenv: $UV_PROJECT_ENVIRONMENT, `.venv` (uv's and poetry's in-project default), `venv`;
3. a poetry or pipenv environment kept outside the repository (`poetry env info -p`, `pipenv --venv`);
4. else coder's own interpreter, and describe() says so. When coder is installed INTO the project's venv, that venv is
   both: step 2 (or 1, when it is not coder's prefix) finds it, and it is the interpreter coder runs on anyway.

The venv stays where it is (it is usually git-ignored, so the workspace copy lacks it). An editable install in it
points at the user's checkout, not the copy the agent edits: those paths are mapped to the copy on PYTHONPATH, which
comes before site-packages, so the tests import the agent's code.

node_modules (also git-ignored) is linked, not copied: the workspace gets a real node_modules folder holding one
symlink per package of the user's. Copying would isolate it but costs seconds to minutes for a large tree; linking
is instant. Trade-off: a command that writes into a linked package writes into the user's node_modules. The local
sandbox is not a security boundary (commands run as the user) and the file tools refuse paths that resolve outside
the workspace; the folder itself is real, so new files (e.g. node_modules/.cache) stay in the copy and git's
`node_modules/` exclude keeps it out of the patch.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["ProjectEnv", "find_project_env", "link_node_modules", "editable_paths", "venv_python"]

TOOL_TIMEOUT = 20.0  # seconds for `poetry env info -p` / `pipenv --venv`
_NODE_SKIP = {".cache"}  # build caches stay in the workspace


@dataclass(frozen=True)
class ProjectEnv:
    """What the local sandbox should run the repository's code with."""

    python: str | None = None  # the interpreter for tests (None: coder's own)
    venv: Path | None = None
    source: str = "coder's own Python"  # said to the user
    node_modules: Path | None = None  # the user's node_modules, linked into the workspace
    editable: tuple[str, ...] = ()  # repo-relative folders an editable install in the venv puts on sys.path
    notes: tuple[str, ...] = field(default=())

    def path_prefix(self, workdir: Path) -> list[str]:
        """Folders to put first on PATH: the venv's scripts, then the workspace's node_modules/.bin."""
        prefix = [str(_bin_dir(self.venv))] if self.venv is not None else []
        if self.node_modules is not None:
            prefix.append(str(workdir / "node_modules" / ".bin"))
        return prefix

    def pythonpath(self, workdir: Path) -> list[str]:
        """The workspace copies of the folders an editable install points at (they shadow the user's checkout)."""
        return [str(workdir / rel) if rel != "." else str(workdir) for rel in self.editable]

    def describe(self) -> str:
        """One line for the user: which interpreter (and node_modules) the local sandbox uses."""
        python = self.python or sys.executable
        line = f"local sandbox: tests run with {python} ({self.source})"
        if self.node_modules is not None:
            line += f"; node_modules linked from {self.node_modules}"
        return " ".join([line, *self.notes])


def venv_python(venv: Path) -> Path | None:
    """The interpreter of the virtualenv VENV, or None when VENV is not one."""
    for candidate in (venv / "bin" / "python", venv / "Scripts" / "python.exe"):
        if candidate.exists():
            return candidate
    return None


def _bin_dir(venv: Path) -> Path:
    return venv / "Scripts" if (venv / "Scripts").is_dir() and not (venv / "bin").is_dir() else venv / "bin"


def _same(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except OSError:
        return False


def find_project_env(repo: Path, environ: Mapping[str, str] | None = None, own_prefix: str | None = None,
                     run_tools: bool = True) -> ProjectEnv:
    """The environment the repository's tests should run in (see the module docstring for the order)."""
    environ = os.environ if environ is None else environ
    own = Path(own_prefix or sys.prefix)
    repo = repo.resolve()
    node = repo / "node_modules"
    node_modules = node if node.is_dir() and not node.is_symlink() else None
    found = _find_venv(repo, environ, own, run_tools)
    if found is None:
        hint: tuple[str, ...] = ()
        if any((repo / name).is_file() for name in ("pyproject.toml", "setup.py", "requirements.txt", "setup.cfg")):
            hint = ("(no project virtualenv found: create .venv with the project's dependencies, or activate one)",)
        return ProjectEnv(source="coder's own Python", node_modules=node_modules, notes=hint)
    venv, source = found
    python = venv_python(venv)
    return ProjectEnv(python=str(python), venv=venv, source=source, node_modules=node_modules,
                      editable=tuple(editable_paths(venv, repo)))


def _find_venv(repo: Path, environ: Mapping[str, str], own: Path, run_tools: bool) -> tuple[Path, str] | None:
    active = environ.get("VIRTUAL_ENV")
    if active and venv_python(Path(active)) is not None and not _same(Path(active), own):
        return Path(active), f"the active virtualenv {active}"
    candidates: list[tuple[Path, str]] = []
    uv_env = environ.get("UV_PROJECT_ENVIRONMENT")
    if uv_env:
        candidates.append((repo / uv_env if not os.path.isabs(uv_env) else Path(uv_env), "UV_PROJECT_ENVIRONMENT"))
    candidates += [(repo / ".venv", "the repository's .venv"), (repo / "venv", "the repository's venv")]
    for venv, source in candidates:
        if venv_python(venv) is not None and (venv / "pyvenv.cfg").is_file():
            return venv, source
    if not run_tools:
        return None
    for lock, argv, source in ((repo / "poetry.lock", ["poetry", "env", "info", "-p"], "the poetry environment"),
                               (repo / "Pipfile", ["pipenv", "--venv"], "the pipenv environment")):
        program = shutil.which(argv[0], path=environ.get("PATH")) if lock.is_file() else None
        if program is not None:
            printed = _tool_venv([program, *argv[1:]], repo, environ)
            if printed is not None and venv_python(printed) is not None:
                return printed, f"{source} {printed}"
    return None


def _tool_venv(argv: list[str], repo: Path, environ: Mapping[str, str]) -> Path | None:
    """The venv path a project tool prints (it never creates one: poetry's info and pipenv --venv only look)."""
    try:
        proc = subprocess.run(argv, cwd=repo, env=dict(environ), capture_output=True, text=True,
                              timeout=TOOL_TIMEOUT, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.SubprocessError):
        return None
    lines = proc.stdout.strip().splitlines()
    return Path(lines[-1].strip()) if proc.returncode == 0 and lines and os.path.isabs(lines[-1].strip()) else None


def editable_paths(venv: Path, repo: Path) -> list[str]:
    """Repo-relative folders that editable installs in VENV put on sys.path (.pth lines, setuptools' finders)."""
    repo = repo.resolve()
    found: list[str] = []
    sites = [*venv.glob("lib/python*/site-packages"), *venv.glob("Lib/site-packages")]
    for site in sites:
        for pth in sorted(site.glob("*.pth")):
            for line in _lines(pth):
                if line and not line.startswith(("#", "import ", "import\t")):
                    _add_inside(Path(line), repo, found)
        for finder in sorted(site.glob("__editable__*finder.py")):
            for literal in re.findall(r"""['"](/[^'"\n]+|[A-Za-z]:\\\\[^'"\n]+)['"]""", _text(finder)):
                _add_inside(Path(literal.replace("\\\\", "\\")).parent, repo, found)  # a package dir or module
    return found


def _add_inside(path: Path, repo: Path, found: list[str]) -> None:
    try:
        rel = path.resolve().relative_to(repo).as_posix() if path.is_absolute() else None
    except (ValueError, OSError):
        return
    if rel is not None and rel not in found:
        found.append(rel)


def _text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def _lines(path: Path) -> list[str]:
    return [line.strip() for line in _text(path).splitlines()]


def link_node_modules(source: Path, workdir: Path) -> int:
    """Give WORKDIR a real node_modules folder with one symlink per entry of SOURCE; returns the links made."""
    target = workdir / "node_modules"
    if os.path.lexists(target):
        return 0
    target.mkdir()
    count = 0
    for entry in sorted(source.iterdir()):
        if entry.name in _NODE_SKIP:
            continue
        os.symlink(entry, target / entry.name, target_is_directory=entry.is_dir())
        count += 1
    return count
