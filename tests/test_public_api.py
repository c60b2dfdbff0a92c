"""coder's public API: __all__ names exactly what the package offers, each name loads, and the README example runs."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

import coder

ROOT = Path(__file__).resolve().parents[1]


def test_every_name_in_all_loads_from_where_it_is_defined() -> None:
    for name in coder.__all__:
        value = getattr(coder, name)
        assert value is not None, name
        module = getattr(value, "__module__", None)
        if module is not None and name != "Event":  # Event is a typing.Union
            assert module.startswith("coder."), (name, module)


def test_all_is_sorted_and_matches_the_lazy_map() -> None:
    public = [n for n in coder.__all__ if not n.startswith("_")]
    assert public == sorted(public, key=str.lower) or public == sorted(public)
    assert set(public) == set(coder._WHERE)  # a name added to one and not the other fails here


def test_unknown_names_raise_attribute_error() -> None:
    with pytest.raises(AttributeError):
        coder.NoSuchThing  # noqa: B018


def test_importing_coder_does_not_import_the_agent_models_or_sandboxes() -> None:
    code = "import sys, coder; print(sorted(m for m in sys.modules if m.startswith('coder.')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_the_readme_library_example_runs_as_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Library use"):]
    example = re.search(r"```python\n(.*?)```", section, re.S)
    assert example is not None, "the README's library example is gone"
    repo = tmp_path / "repo"
    (repo / "tests").mkdir(parents=True)
    (repo / "calc.py").write_text("def add(a, b):\n    return a - b\n")
    (repo / "tests" / "test_calc.py").write_text("from calc import add\n\n\ndef test_add():\n    assert add(2, 3) == 5\n")
    for args in (["init", "-q"], ["add", "-A"], ["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "x"]):
        subprocess.run(["git", *args], cwd=repo, check=True)
    monkeypatch.chdir(repo)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))  # the trajectory goes to the user's cache dir
    printed: list[str] = []
    monkeypatch.setattr("builtins.print", lambda *a, **k: printed.append(" ".join(map(str, a))))
    exec(compile(example.group(1), "README.md", "exec"), {"__name__": "readme_example"})
    assert printed[0] == "run_started" and printed[-1] == "run_finished"
    assert "file_edited" in printed and "tests_ran" in printed
    assert (repo / "calc.py").read_text() == "def add(a, b):\n    return a - b\n"  # the user's files are untouched
