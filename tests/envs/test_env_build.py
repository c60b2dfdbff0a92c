"""Real environment-image builds for small repos (Python, pyproject extra, npm, Go via a local GOPROXY, Rust): the
baseline test run on the built image finds the failing test; a second call reuses the image; failures say the fix."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import threading
import uuid
import zipfile
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from coder.envs import EnvBuildError, EnvImage, detect_environment, ensure_env_image, env_image_built, env_image_tag
from coder.envs.images import list_env_images
from coder.sandboxes.base import WorkspaceOptions
from coder.sandboxes.docker import DockerSandbox, docker_client
from coder.sandboxes.docker_image import BUILD_LABEL
from repo_helpers import git

pytestmark = pytest.mark.docker
MakeRepo = Callable[..., Path]

PY_TESTS = ("from calc import add\n\n\ndef test_add():\n    assert add(2, 3) == 5\n\n\n"
            "def test_zero():\n    assert add(0, 0) == 0\n")


def build(repo: Path, image: str) -> tuple[EnvImage, list[str]]:
    said: list[str] = []
    built = ensure_env_image(docker_client(), repo, detect_environment(repo), image, said.append)
    return built, said


def baseline(repo: Path, built: EnvImage, check: str | None = None) -> tuple[str, str]:
    """The baseline run_tests output on the image (and CHECK's output, a bash command run there too)."""
    with DockerSandbox(image=built.tag, env=built.env).open(repo, WorkspaceOptions()) as session:
        tests = session.call("run_tests", {}, timeout=300)
        extra = session.call("bash", {"command": check}).output if check else ""
    return tests.output, extra


def test_python_requirements_with_a_real_dependency(make_repo: MakeRepo, docker_images: dict[str, str]) -> None:
    repo = make_repo({"requirements.txt": "six==1.16.0\n", "tests/test_calc.py": PY_TESTS,
                      "calc.py": "import six\n\n\ndef add(a, b):\n    return a - b if six.PY3 else 0\n"})
    built, said = build(repo, docker_images["plain"])
    assert built.tag.startswith("coder-env:") and built.env["PATH"].startswith("/opt/coder/env/bin:")
    assert any("pip install -r requirements.txt" in line or "(cached)" in line for line in said)
    output, check = baseline(repo, built, "python -c 'import six; print(six.__version__)'; id -u; python -m pip --version")
    assert "1 passed, 1 failed" in output and "tests/test_calc.py::test_add" in output, output
    assert check.splitlines()[:2] == ["1.16.0", "1000"] and "/opt/coder/env" in check
    labels = next(row for row in list_env_images(docker_client()) if row["tag"] == built.tag)
    # the repo that built it first (repos with the same dependency files share the image)
    assert labels["repo"].startswith("/") and labels["labels"]["files"] == ["requirements.txt"]
    assert "python via pip" in labels["summary"] and labels["size"] > 0


PYPROJECT = """[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"

[project]
name = "calc"
version = "0.1.0"

[project.optional-dependencies]
test = ["pytest"]

[tool.setuptools]
py-modules = ["calc"]
"""
# Runs inside the build backend, i.e. as whoever installs the project: records that uid and its capabilities.
SETUP_PY = """import os
from setuptools import setup
caps = [l.split()[1] for l in open("/proc/self/status") if l.startswith("CapEff")]
open("install-identity.txt", "w").write(f"{os.getuid()} {caps[0]}\\n")
setup()
"""


def test_pyproject_test_extra_installed_editable_as_uid_1000(make_repo: MakeRepo,
                                                               docker_images: dict[str, str]) -> None:
    repo = make_repo({"pyproject.toml": PYPROJECT, "setup.py": SETUP_PY, "tests/test_calc.py": PY_TESTS,
                      "calc.py": "def add(a, b):\n    return a - b\n", ".gitignore": "*.egg-info/\n"})
    spec = detect_environment(repo)
    assert any(".[test]" in command for command in spec.install)
    built, _ = build(repo, docker_images["plain"])
    output, check = baseline(repo, built, "cat install-identity.txt; cd /tmp && python -c 'import calc; print(calc.__file__)'")
    assert "1 passed, 1 failed" in output and "test_add" in output, output
    identity, module = check.split()[:2], check.splitlines()[1]
    assert identity[0] == "1000" and identity[1] == "0000000000000000", check  # no root, no capabilities
    assert module == "/workspace/calc.py"  # editable: the run's copy of the code is what gets imported


PACKAGE_JSON = {"name": "calc", "version": "1.0.0", "private": True, "scripts": {"test": "node --test"},
                "dependencies": {"is-number": "7.0.0"}}
PACKAGE_LOCK = {
    "name": "calc", "version": "1.0.0", "lockfileVersion": 3, "requires": True,
    "packages": {
        "": {"name": "calc", "version": "1.0.0", "dependencies": {"is-number": "7.0.0"}},
        "node_modules/is-number": {
            "version": "7.0.0", "resolved": "https://registry.npmjs.org/is-number/-/is-number-7.0.0.tgz",
            "integrity": "sha512-41Cifkg6e8TylSpdtTpeLVMqvSBEVzTttHvERD741+pnZ8ANv0004MRL43QKPDlK9cGvNp6NZWZUBlbGXYxxng==",
            "license": "MIT", "engines": {"node": ">=0.12.0"}}}}
NODE_TEST = """const test = require('node:test');
const assert = require('node:assert');
const { add } = require('../calc');
test('adds', () => { assert.strictEqual(add(2, 3), 5); });
test('rejects non-numbers', () => { assert.throws(() => add('a', 1)); });
"""


def test_javascript_with_a_lockfile(make_repo: MakeRepo, docker_images: dict[str, str]) -> None:
    repo = make_repo({"package.json": json.dumps(PACKAGE_JSON), "package-lock.json": json.dumps(PACKAGE_LOCK),
                      ".gitignore": "node_modules/\n", "test/calc.test.js": NODE_TEST,
                      "calc.js": "const isNumber = require('is-number');\n"
                                 "exports.add = (a, b) => { if (!isNumber(a)) throw new Error('nan'); return a - b; };\n"})
    built, said = build(repo, docker_images["plain"])
    assert any("npm ci" in line or "(cached)" in line for line in said)
    output, check = baseline(repo, built, "ls node_modules")
    assert "1 passed, 1 failed" in output and "adds" in output, output
    assert "is-number" in check


GO_DEP = {"go.mod": b"module example.com/greet\n\ngo 1.18\n",
          "greet.go": b"package greet\n\nfunc Hello() string { return \"hello\" }\n"}


def _h1(files: dict[str, bytes]) -> str:
    summary = "".join(f"{hashlib.sha256(files[name]).hexdigest()}  {name}\n" for name in sorted(files))
    return "h1:" + base64.b64encode(hashlib.sha256(summary.encode()).digest()).decode()


@pytest.fixture
def goproxy() -> Iterator[tuple[str, list[str]]]:
    """A GOPROXY on 127.0.0.1 serving example.com/greet v1.0.0 (the module proxy protocol: list, info, mod, zip)."""
    prefix = "example.com/greet@v1.0.0/"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in GO_DEP.items():
            archive.writestr(prefix + name, data)
    base = "/example.com/greet/@v/"
    routes = {base + "list": b"v1.0.0\n", base + "v1.0.0.info": b'{"Version":"v1.0.0","Time":"2024-01-01T00:00:00Z"}',
              base + "v1.0.0.mod": GO_DEP["go.mod"], base + "v1.0.0.zip": buffer.getvalue()}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            served.append(self.path)
            body = routes.get(self.path)
            self.send_response(200 if body is not None else 404)
            self.end_headers()
            self.wfile.write(body or b"not found")

        def log_message(self, *args: object) -> None:
            pass

    served: list[str] = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", served
    finally:
        server.shutdown()


def test_go_module_dependency_through_the_hosts_goproxy(make_repo: MakeRepo, docker_images: dict[str, str],
                                                        goproxy: tuple[str, list[str]],
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    url, served = goproxy
    monkeypatch.setenv("GOPROXY", url)
    monkeypatch.setenv("GONOSUMDB", "example.com")
    monkeypatch.setenv("GOSUMDB", "off")
    zipped = {f"example.com/greet@v1.0.0/{name}": data for name, data in GO_DEP.items()}
    go_sum = (f"example.com/greet v1.0.0 {_h1(zipped)}\n"
              f"example.com/greet v1.0.0/go.mod {_h1({'go.mod': GO_DEP['go.mod']})}\n")
    repo = make_repo({
        # a fresh go.mod each run (a comment), so the image is built and the proxy asked every time
        "go.mod": f"module example.com/calc\n\n// {uuid.uuid4()}\n\ngo 1.19\n\nrequire example.com/greet v1.0.0\n",
        "go.sum": go_sum,
        "calc.go": "package calc\n\nimport \"example.com/greet\"\n\nfunc Add(a, b int) int { return a - b }\n\n"
                   "func Greeting() string { return greet.Hello() }\n",
        "calc_test.go": "package calc\n\nimport \"testing\"\n\nfunc TestAdd(t *testing.T) {\n\tif Add(2, 3) != 5 "
                        "{\n\t\tt.Fatal(\"add\")\n\t}\n}\n\nfunc TestGreeting(t *testing.T) {\n\tif Greeting() != "
                        "\"hello\" {\n\t\tt.Fatal(\"greet\")\n\t}\n}\n"})
    built, said = build(repo, docker_images["plain"])
    assert built.built and any("host network" in line for line in said), said  # the loopback GOPROXY was honoured
    assert "/example.com/greet/@v/v1.0.0.zip" in served
    assert built.env["GOPROXY"] == "off" and built.env["GOFLAGS"] == "-mod=mod"
    output, check = baseline(repo, built, "git status --porcelain go.sum; go env GOPROXY")
    assert "1 passed, 1 failed" in output and "TestAdd" in output, output
    assert check.splitlines()[0] == "off"  # go.sum untouched, and no proxy at run time


def test_rust_crate(make_repo: MakeRepo, docker_images: dict[str, str]) -> None:
    repo = make_repo({"Cargo.toml": '[package]\nname = "calc"\nversion = "0.1.0"\nedition = "2021"\n',
                      ".gitignore": "target/\n",
                      "src/lib.rs": "pub fn add(a: i32, b: i32) -> i32 { a - b }\n\n#[cfg(test)]\nmod tests {\n"
                                    "    use super::*;\n    #[test]\n    fn adds() { assert_eq!(add(2, 3), 5); }\n"
                                    "    #[test]\n    fn zero() { assert_eq!(add(0, 0), 0); }\n}\n"})
    built, _ = build(repo, docker_images["plain"])
    assert built.env["CARGO_HOME"] == "/opt/coder/cargo" and built.env["CARGO_NET_OFFLINE"] == "true"
    output, _ = baseline(repo, built)
    assert "1 passed, 1 failed" in output and "adds" in output, output


def test_second_call_reuses_the_image_and_dependency_changes_rebuild(make_repo: MakeRepo,
                                                                    docker_images: dict[str, str]) -> None:
    repo = make_repo({"requirements.txt": "six==1.16.0\n", "calc.py": "x = 1\n", "test_calc.py": "def test(): pass\n"})
    first, _ = build(repo, docker_images["plain"])
    again, said = build(repo, docker_images["plain"])
    assert (again.tag, again.built, again.env) == (first.tag, False, first.env)
    assert any("(cached)" in line for line in said) and not any("building" in line for line in said)
    client, spec = docker_client(), detect_environment(repo)
    (repo / "calc.py").write_text("x = 2\n")  # code, not a dependency file: same image
    assert env_image_tag(client, repo, spec, docker_images["plain"]) == first.tag
    (repo / "requirements.txt").write_text("six==1.17.0\n")
    git(repo, "commit", "-qam", "bump six")
    changed = env_image_tag(client, repo, spec, docker_images["plain"])
    assert changed != first.tag and not env_image_built(client, changed) and env_image_built(client, first.tag)


def test_an_uninstallable_dependency_names_the_file_and_command(make_repo: MakeRepo,
                                                                 docker_images: dict[str, str]) -> None:
    repo = make_repo({"requirements.txt": "coder-no-such-package-7f3a==9.9.9\n", "test_x.py": "def test(): pass\n"})
    client = docker_client()
    tag = env_image_tag(client, repo, detect_environment(repo), docker_images["plain"])
    with pytest.raises(EnvBuildError) as info:
        build(repo, docker_images["plain"])
    message = str(info.value)
    assert "pip install -r requirements.txt" in message and "coder-no-such-package-7f3a" in message
    assert "requirements.txt" in message.split("Fix:")[1] and "sandbox.setup" in message
    assert not env_image_built(client, tag)
    assert client.containers.list(all=True, filters={"label": f"{BUILD_LABEL}=env {tag}"}) == []


PNPM_LOCK = """lockfileVersion: '9.0'

settings:
  autoInstallPeers: true
  excludeLinksFromLockfile: false

importers:

  .:
    dependencies:
      is-number:
        specifier: 7.0.0
        version: 7.0.0

packages:

  is-number@7.0.0:
    resolution: {integrity: sha512-41Cifkg6e8TylSpdtTpeLVMqvSBEVzTttHvERD741+pnZ8ANv0004MRL43QKPDlK9cGvNp6NZWZUBlbGXYxxng==}
    engines: {node: '>=0.12.0'}

snapshots:

  is-number@7.0.0: {}
"""
YARN_LOCK = """# THIS IS AN AUTOGENERATED FILE. DO NOT EDIT THIS FILE DIRECTLY.
# yarn lockfile v1


is-number@7.0.0:
  version "7.0.0"
  resolved "https://registry.yarnpkg.com/is-number/-/is-number-7.0.0.tgz#7535345b896734d5f80c4d06c50955527a14f12b"
  integrity sha512-41Cifkg6e8TylSpdtTpeLVMqvSBEVzTttHvERD741+pnZ8ANv0004MRL43QKPDlK9cGvNp6NZWZUBlbGXYxxng==
"""


@pytest.mark.parametrize(("lockfile", "text", "manager"), [("pnpm-lock.yaml", PNPM_LOCK, "pnpm"),
                                                           ("yarn.lock", YARN_LOCK, "yarn")], ids=["pnpm", "yarn"])
def test_pnpm_and_yarn_lockfiles(make_repo: MakeRepo, docker_images: dict[str, str], lockfile: str, text: str,
                                 manager: str) -> None:
    repo = make_repo({"package.json": json.dumps(PACKAGE_JSON), lockfile: text, ".gitignore": "node_modules/\n",
                      "test/calc.test.js": NODE_TEST,
                      "calc.js": "const isNumber = require('is-number');\n"
                                 "exports.add = (a, b) => { if (!isNumber(a)) throw new Error('nan'); return a - b; };\n"})
    assert detect_environment(repo).package_manager == manager
    built, _ = build(repo, docker_images["plain"])
    output, check = baseline(repo, built, f"command -v {manager}")
    assert "1 passed, 1 failed" in output and "adds" in output, output
    assert check.startswith(f"/opt/coder/node/bin/{manager}")


def test_uv_lock_synced_frozen(make_repo: MakeRepo, docker_images: dict[str, str]) -> None:
    """A hatchling project locked with uv (fixtures/uv_project: six pinned, a `test` extra with pytest)."""
    fixture = Path(__file__).parent / "fixtures" / "uv_project"
    repo = make_repo({"pyproject.toml": (fixture / "pyproject.toml").read_text(), ".gitignore": ".venv/\n",
                      "uv.lock": (fixture / "uv.lock").read_text(), "tests/test_calc.py": PY_TESTS,
                      "calc/__init__.py": "import six\n\n\ndef add(a, b):\n    return a - b\n"})
    assert detect_environment(repo).package_manager == "uv"
    built, _ = build(repo, docker_images["plain"])
    output, check = baseline(repo, built, "cd /tmp && python -c 'import calc, six; print(calc.__file__, six.__version__)'")
    assert "1 passed, 1 failed" in output and "test_add" in output, output
    assert check.startswith("/workspace/calc/__init__.py 1.16.0")  # editable, with the locked version
