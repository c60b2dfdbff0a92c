"""The wheel carries coder/, coder_tools/ (with its .scm queries), prompts/, sandbox/, the demo's example project and
the `coder` script."""

from __future__ import annotations

import configparser
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from coder.resources import resource_dir, tools_path

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build the wheel once for this module (no isolation: hatchling is installed; falls back to pip wheel)."""
    out = tmp_path_factory.mktemp("dist")
    try:
        import build  # noqa: F401

        command = [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(out), str(ROOT)]
    except ImportError:
        command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w", str(out), str(ROOT)]
    proc = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    wheels = list(out.glob("*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


@pytest.fixture(scope="module")
def names(wheel: Path) -> set[str]:
    with zipfile.ZipFile(wheel) as archive:
        return set(archive.namelist())


def source_files(directory: Path, pattern: str) -> list[str]:
    return sorted(p.relative_to(directory).as_posix() for p in directory.rglob(pattern) if "__pycache__" not in p.parts)


pytestmark = pytest.mark.slow


def test_wheel_contains_the_host_package(names: set[str]) -> None:
    for module in source_files(ROOT / "coder", "*.py"):
        assert f"coder/{module}" in names


def test_wheel_contains_the_tool_package_at_top_level(names: set[str]) -> None:
    assert {"coder_tools/__init__.py", "coder_tools/server.py", "coder_tools/registry.py"} <= names
    for module in source_files(ROOT / "tools" / "coder_tools", "*.py"):
        assert f"coder_tools/{module}" in names
    assert not any(name.startswith("tools/") for name in names), "the tool package must be importable as coder_tools"


def test_wheel_contains_tree_sitter_queries(names: set[str]) -> None:
    queries = source_files(ROOT / "tools" / "coder_tools" / "queries", "*.scm")
    for query in queries:
        assert f"coder_tools/queries/{query}" in names


def test_wheel_contains_prompts_and_sandbox(names: set[str]) -> None:
    assert "coder/_data/prompts/system.j2" in names
    for template in source_files(ROOT / "prompts", "*"):
        assert f"coder/_data/prompts/{template}" in names
    assert "coder/_data/sandbox/README.md" in names
    for item in source_files(ROOT / "sandbox", "*"):
        if (ROOT / "sandbox" / item).is_file():
            assert f"coder/_data/sandbox/{item}" in names


def test_wheel_contains_the_demo_example(names: set[str]) -> None:
    """`coder demo` copies examples/calculator: every file of it ships, and no bytecode or test cache with it."""
    example = ROOT / "examples" / "calculator"
    files = [f for f in source_files(example, "*") if (example / f).is_file() and ".pytest_cache" not in f]
    assert "calculator.py" in files and "ISSUE.md" in files and "tests/test_calculator.py" in files
    for item in files:
        assert f"coder/_data/examples/calculator/{item}" in names
    assert not any(n.startswith("coder/_data/examples/") and ("__pycache__" in n or n.endswith(".pyc")) for n in names)
    assert "coder/_data/examples/coder-workflow.yml" not in names


def test_wheel_leaves_out_tests_and_bench(names: set[str]) -> None:
    assert not any(name.startswith(("tests/", "bench/", "tasks/")) for name in names)


def test_console_script(wheel: Path, names: set[str]) -> None:
    entry_points = next(name for name in names if name.endswith(".dist-info/entry_points.txt"))
    with zipfile.ZipFile(wheel) as archive:
        parser = configparser.ConfigParser()
        parser.read_string(archive.read(entry_points).decode())
    assert parser["console_scripts"]["coder"] == "coder.cli:main"


def test_installed_wheel_resolves_its_own_resources(wheel: Path, tmp_path: Path) -> None:
    """Unpacked wheel on PYTHONPATH (ahead of the editable checkout): resources come from coder/_data."""
    site = tmp_path / "site"
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(site)
    code = ("from coder.resources import resource_dir, tools_path; import coder_tools.registry; "
            "print(resource_dir('prompts')); print(resource_dir('sandbox')); print(tools_path()); "
            "from coder.demo import example_dir; print(example_dir())")
    env = {**os.environ, "PYTHONPATH": str(site)}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=tmp_path,
                          check=True)
    prompts, sandbox, tools, example = proc.stdout.splitlines()
    assert Path(prompts) == site / "coder" / "_data" / "prompts"
    assert Path(sandbox) == site / "coder" / "_data" / "sandbox"
    assert Path(tools) == site
    assert Path(example) == site / "coder" / "_data" / "examples" / "calculator"


def test_checkout_resolves_resources() -> None:
    """In the source checkout (editable install) prompts/ and sandbox/ come from the repository root."""
    if (ROOT / "coder" / "_data").exists():
        pytest.skip("coder/_data exists in the checkout")
    assert resource_dir("prompts") == ROOT / "prompts"
    assert (resource_dir("prompts") / "system.j2").is_file()
    assert resource_dir("sandbox") == ROOT / "sandbox"
    assert tools_path() == ROOT / "tools"
    from coder.demo import example_dir

    assert example_dir() == ROOT / "examples" / "calculator"


def test_unknown_resource() -> None:
    with pytest.raises(FileNotFoundError, match="nope"):
        resource_dir("nope")


def test_test_modules_have_unique_basenames() -> None:
    """pytest imports test modules by basename (rootdir-relative dirs are not packages): two test_cli.py collide."""
    from collections import Counter

    tests = Path(__file__).resolve().parent
    names = Counter(p.name for p in tests.rglob("*.py") if p.name not in ("conftest.py", "__init__.py")
                    and "__snapshots__" not in p.parts)
    assert [name for name, count in names.items() if count > 1] == []
