"""Escape and abuse suite for DockerSandbox, against the real engine: what a hostile or clumsy command can reach,
break or leave behind. Every test asserts on the real effect (an error text, a missing file, a count), so each one
fails when the protection it names is taken away."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import docker.errors
import pytest

from coder.sandboxes.base import WorkspaceOptions
from coder.sandboxes.docker import DockerLimits, DockerSandbox, DockerSession, docker_client
from coder.sandboxes.docker_image import LABEL
from repo_helpers import git, tree_snapshot

pytestmark = pytest.mark.docker

LIMITS = DockerLimits(memory="256m", cpus=1.0, pids=128, workspace_size="64m", tmp_size="64m", home_size="16m")
TIMEOUT = 4.0  # bash_timeout of every session here: abuse must be cut off at it
SECRET = "TOPSECRET-9f3c2a71-host-only"
MiB = 1024 * 1024


@pytest.fixture
def repo(make_repo: Callable[..., Path]) -> Path:
    return make_repo({"app.py": "def main():\n    return 1\n", "README.md": "hello\n"})


@pytest.fixture
def open_session(docker_images: dict[str, str]) -> Iterator[Callable[..., DockerSession]]:
    """Open sessions on the plain image with small limits; every one is closed at the end."""
    opened: list[DockerSession] = []

    def _open(repo: Path, timeout: float = TIMEOUT, limits: DockerLimits = LIMITS) -> DockerSession:
        session = DockerSandbox(image=docker_images["plain"], limits=limits).open(repo, WorkspaceOptions(bash_timeout=timeout))
        opened.append(session)
        return session

    yield _open
    for session in opened:
        session.close()


def sh(session: DockerSession, command: str, **kw: Any) -> str:
    result = session.call("bash", {"command": command, **kw})
    assert result.ok, result.output
    return result.output


def host_pids() -> int:
    return sum(1 for entry in os.listdir("/proc") if entry.isdigit())


def container_pids(session: DockerSession) -> list[str]:
    """Command lines of every process in the container (no `ps` in the image: read /proc)."""
    out = sh(session, r"for p in /proc/[0-9]*; do echo \"$(tr '\0' ' ' < $p/cmdline 2>/dev/null)\"; done")
    return [line for line in out.splitlines()[:-1] if line.strip()]


def default_gateway() -> str | None:
    with open("/proc/net/route") as handle:
        for line in handle.readlines()[1:]:
            fields = line.split()
            if fields[1] == "00000000" and int(fields[3], 16) & 2:
                return socket.inet_ntoa(struct.pack("<L", int(fields[2], 16)))
    return None


# ---------------------------------------------------------------- the container's configuration


def test_container_has_the_documented_lockdown(repo: Path, open_session: Callable[..., DockerSession]) -> None:
    session = open_session(repo)
    session.container.reload()
    host = session.container.attrs["HostConfig"]
    config = session.container.attrs["Config"]
    assert host["NetworkMode"] == "none"
    # only what the tool server needs to give itself an identity commands cannot reach; it drops them at once
    assert host["CapDrop"] == ["ALL"] and sorted(host.get("CapAdd") or []) == ["SETGID", "SETPCAP", "SETUID"]
    assert host["ReadonlyRootfs"] is True and host["Privileged"] is False
    assert "no-new-privileges" in (host.get("SecurityOpt") or [])
    assert any(opt.startswith("seccomp=") for opt in host.get("SecurityOpt") or [])
    assert host["PidsLimit"] == LIMITS.pids
    inodes = 2048 * (LIMITS.workspace_inodes + LIMITS.tmp_inodes + LIMITS.home_inodes)  # kernel memory per inode
    assert host["Memory"] == host["MemorySwap"] == LIMITS.container_memory() == (256 + 64 + 64 + 16) * MiB + inodes
    assert host["NanoCpus"] == int(LIMITS.cpus * 1e9) and host["Init"] is True
    assert not host.get("Binds") and not host.get("Devices") and not host.get("VolumesFrom")
    assert host.get("PidMode", "") != "host" and host.get("IpcMode", "") != "host" and host.get("UTSMode", "") != "host"
    assert set(host["Tmpfs"]) == {"/workspace", "/tmp", "/home/coder"}
    assert "size=64m" in host["Tmpfs"]["/workspace"]
    assert all("nr_inodes=" in options for options in host["Tmpfs"].values()), host["Tmpfs"]
    mounts = session.container.attrs["Mounts"]
    assert not [m for m in mounts if m.get("Type") == "bind" or "docker.sock" in str(m)], mounts
    assert config["User"] == "0:0" and config["Cmd"][-1] == "--separate-users"  # commands: uid 1000 (see below)
    assert list(session.container.attrs["NetworkSettings"]["Networks"]) in ([], ["none"])
    assert config["Labels"][LABEL] == "1"


# ---------------------------------------------------------------- 1. network


def test_outbound_network_fails_as_command_output(repo: Path, open_session: Callable[..., DockerSession]) -> None:
    session = open_session(repo)
    targets = ["1.1.1.1", "172.17.0.1"] + [gw for gw in [default_gateway()] if gw]
    probe = ("import socket, sys\nfor host in sys.argv[1:]:\n    try:\n"
             "        socket.create_connection((host, 53), timeout=2)\n        print(host, 'CONNECTED')\n"
             "    except OSError as exc:\n        print(host, 'FAILED', exc)\n")
    result = session.call("bash", {"command": f"python3 -c \"{probe}\" {' '.join(targets)}"})
    assert result.ok and not result.data["timed_out"], result.output  # a normal result the model reads, not a crash
    for host in targets:  # no route at all (not "refused", which would mean a reachable host)
        assert f"{host} FAILED [Errno 101] Network is unreachable" in result.output, result.output
    assert "CONNECTED" not in result.output
    dns = session.call("bash", {"command": "getent hosts pypi.org"})
    assert dns.ok and dns.data["exit_code"] == 2 and "pypi.org" not in dns.output, dns.output  # no resolution
    devices = sh(session, "tail -n +3 /proc/net/dev | cut -d: -f1")
    assert [d.strip() for d in devices.splitlines()[:-1]] == ["lo"], devices  # nothing but loopback to route through


# ---------------------------------------------------------------- 2. symlinks to host paths


def test_symlinks_to_host_paths_are_unreadable_through_every_tool(
    make_repo: Callable[..., Path], tmp_path: Path, open_session: Callable[..., DockerSession]
) -> None:
    secret_dir = tmp_path / "host-secrets"
    secret_dir.mkdir()
    secret = secret_dir / "secret.py"
    secret.write_text(f'def host_secret_fn():\n    return "{SECRET}"\n')
    repo = make_repo({"app.py": "from secret_link import host_secret_fn\n\nhost_secret_fn()\n"})
    os.symlink(secret, repo / "secret_link.py")
    os.symlink(secret_dir, repo / "secret_dir")
    os.symlink("/etc/shadow", repo / "shadow")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "links")
    session = open_session(repo)

    outputs: list[str] = []
    for name, args in [
        ("view_file", {"path": "secret_link.py"}),
        ("view_file", {"path": "secret_dir/secret.py"}),
        ("view_file", {"path": "shadow"}),
        ("edit_file", {"path": "secret_link.py", "command": "replace", "old": "host_secret_fn", "new": "x"}),
        ("edit_file", {"path": "shadow", "command": "create", "new": "root::0:0::\n"}),
        ("outline", {"path": "secret_link.py"}),
        ("outline", {"path": "secret_dir/secret.py"}),
        ("grep", {"pattern": "TOPSECRET", "path": "secret_link.py"}),
        ("grep", {"pattern": "root", "path": "shadow"}),
    ]:
        result = session.call(name, args)
        assert not result.ok, (name, args, result.output)
        outputs.append(result.output)
    for name, args in [  # searches of the whole tree may succeed, but must not have looked through the links
        ("grep", {"pattern": "TOPSECRET|root:"}),
        ("find_definition", {"symbol": "host_secret_fn"}),
        ("find_references", {"symbol": "host_secret_fn"}),
    ]:
        result = session.call(name, args)
        assert "secret_link.py:" not in result.output and "secret_dir/" not in result.output, (name, result.output)
        outputs.append(result.output)
    shown = sh(session, f"cat secret_link.py secret_dir/secret.py shadow; for p in {secret} {secret_dir}; do "
                        f"test -e $p && echo PRESENT $p || echo ABSENT $p; done; true")
    outputs.append(shown)
    assert "cat: secret_link.py: No such file or directory" in shown  # a dangling link in the container
    assert f"ABSENT {secret}\n" in shown and f"ABSENT {secret_dir}\n" in shown  # host paths do not exist inside
    assert "shadow: Permission denied" in shown  # the container's own /etc/shadow, and it is not readable either
    assert all(SECRET not in out for out in outputs), outputs
    assert secret.read_text() == f'def host_secret_fn():\n    return "{SECRET}"\n'  # untouched on the host


# ---------------------------------------------------------------- 3 + 4. docker socket, host environment


def test_no_docker_socket_and_no_host_secrets_in_env(
    repo: Path, open_session: Callable[..., DockerSession], monkeypatch: pytest.MonkeyPatch
) -> None:
    planted = {"AWS_SECRET_ACCESS_KEY": "aws-" + SECRET, "GITHUB_TOKEN": "ghp_" + SECRET,
               "OPENAI_API_KEY": "sk-" + SECRET, "CODER_API_KEY": "coder-" + SECRET}
    for key, value in planted.items():
        monkeypatch.setenv(key, value)
    session = open_session(repo)
    out = sh(session, "for s in /var/run/docker.sock /run/docker.sock; do test -e $s && echo PRESENT $s || "
                      "echo ABSENT $s; done; env; echo ---; cat /proc/[0-9]*/environ | tr '\\0' '\\n'; true")
    assert "ABSENT /var/run/docker.sock\n" in out and "ABSENT /run/docker.sock\n" in out
    assert "DOCKER_HOST" not in out and "HOME=/home/coder" in out
    for key, value in planted.items():
        assert key not in out and value not in out
    found = sh(session, "find / -xdev -name 'docker.sock' 2>/dev/null; find /run /var/run -type s 2>/dev/null; true")
    assert "docker.sock" not in found.rsplit("[exit", 1)[0]


# ---------------------------------------------------------------- 5. privileges


def test_non_root_without_capabilities_on_a_read_only_root(
    repo: Path, open_session: Callable[..., DockerSession]
) -> None:
    session = open_session(repo)
    out = sh(session, "id -u; grep -E '^(CapEff|CapPrm|CapBnd|NoNewPrivs):' /proc/self/status")
    lines = dict(line.split(":", 1) for line in out.splitlines() if ":" in line)
    assert out.splitlines()[0].strip() == "1000"
    assert int(lines["CapEff"], 16) == 0 and int(lines["CapPrm"], 16) == 0 and int(lines["CapBnd"], 16) == 0
    assert lines["NoNewPrivs"].strip() == "1"
    denied = sh(session, "for p in /usr/x /etc/x /opt/coder/x /x; do touch $p; done; true")
    assert denied.count("Read-only file system") == 4, denied
    su = sh(session, "su -c id root </dev/null; sudo -n id; true")
    assert "uid=0" not in su
    writable = sh(session, 'touch /workspace/w /tmp/w "$HOME/w" && echo WRITABLE')
    assert "WRITABLE" in writable


# ---------------------------------------------------------------- 6. fork bomb


@pytest.mark.parametrize("bomb", [":(){ :|:& };:", ":(){ :|:& };:; sleep 60"], ids=["detached", "held"])
def test_fork_bomb_is_contained(bomb: str, repo: Path, open_session: Callable[..., DockerSession]) -> None:
    session = open_session(repo)
    before = host_pids()
    start = time.monotonic()
    result = session.call("bash", {"command": bomb})
    elapsed = time.monotonic() - start
    assert elapsed < TIMEOUT + 10, elapsed
    assert (not result.ok and result.data["timed_out"]) or "Resource temporarily unavailable" in result.output \
        or "were stopped" in result.output, result.output
    assert "echo-ok" in sh(session, "echo echo-ok")
    procs = container_pids(session)
    assert len(procs) <= 4, procs  # init, the tool server, this bash (and its subshell at most)
    assert host_pids() <= before + 64  # nothing of the bomb survives on the host either (slack: other work here)


# ---------------------------------------------------------------- 7. memory bomb


def test_memory_bomb_is_killed_and_the_server_survives(repo: Path, open_session: Callable[..., DockerSession]) -> None:
    session = open_session(repo)
    bomb = "python3 -c 'x = []\nwhile True: x.append(bytearray(16 * 1024 * 1024))'"
    result = session.call("bash", {"command": bomb})
    assert result.ok and result.data["exit_code"] in (-9, 137) or "MemoryError" in result.output, result.output
    assert "alive" in sh(session, "echo alive")
    session.container.reload()
    assert session.container.attrs["State"]["Running"] is True


# ---------------------------------------------------------------- 8. disk fill


def test_disk_fill_is_contained(repo: Path, open_session: Callable[..., DockerSession]) -> None:
    docker_root = docker_client().info().get("DockerRootDir", "/var/lib/docker")
    roots = [p for p in ("/", docker_root, "/tmp") if os.path.exists(p)]
    free_before = {p: shutil.disk_usage(p).free for p in roots}
    session = open_session(repo)
    for where in ("big", "/tmp/big", "$HOME/big"):
        result = session.call("bash", {"command": f"dd if=/dev/zero of={where} bs=1M count=100000"})
        assert result.ok and "No space left on device" in result.output, result.output
        assert result.data["exit_code"] != 0
    full = session.call("edit_file", {"path": "more.txt", "command": "create", "new": "x" * 100_000})
    assert not full.ok and "No space left" in full.output, full.output  # a result the model can read
    assert "after-fill" in sh(session, "echo after-fill")
    session.container.reload()
    assert session.container.attrs["State"]["Running"] is True and not session.container.attrs["State"]["OOMKilled"]
    for path, before in free_before.items():  # tmpfs lives in (limited) memory, never on the host's disk
        assert before - shutil.disk_usage(path).free < 64 * MiB, path
    sh(session, 'rm -f big /tmp/big "$HOME/big"')
    assert session.call("edit_file", {"path": "later.txt", "command": "create", "new": "ok\n"}).ok


def test_disk_fill_with_default_limits_does_not_kill_the_server(
    repo: Path, open_session: Callable[..., DockerSession]
) -> None:
    """tmpfs pages count against the memory limit: a full /workspace must not leave the tool server to the OOM killer."""
    limits = DockerLimits(memory="128m", pids=128, workspace_size="192m", tmp_size="96m", home_size="16m")
    session = open_session(repo, limits=limits)
    for where in ("big", "/tmp/big"):
        result = session.call("bash", {"command": f"dd if=/dev/zero of={where} bs=1M count=100000"})
        assert result.ok and "No space left on device" in result.output, result.output
    assert "still-here" in sh(session, "echo still-here")


# ---------------------------------------------------------------- 9. commands that never end


def test_endless_and_detached_commands_are_killed(repo: Path, open_session: Callable[..., DockerSession]) -> None:
    session = open_session(repo, timeout=2)
    start = time.monotonic()
    result = session.call("bash", {"command": "sleep 1000"})
    assert time.monotonic() - start < 2 + 5
    assert not result.ok and result.data["timed_out"] and "timed out after 2s" in result.output
    for command in ["setsid sleep 1000",  # setsid forks off a new session and returns at once
                    "sleep 1000 & setsid sleep 1000 & echo started",  # they hold the output pipe
                    "nohup setsid sleep 1000 >/dev/null 2>&1 & sleep 1000 >/tmp/log 2>&1 & echo started"]:
        start = time.monotonic()
        result = session.call("bash", {"command": command})
        assert time.monotonic() - start < 2 + 5
        assert result.data["timed_out"] or "were stopped" in result.output, result.output
        procs = container_pids(session)
        assert not [p for p in procs if p.startswith("sleep")], (command, procs)
    sh(session, "sleep 0.2 & wait; echo fine")  # background work that finishes inside its command is fine


# ---------------------------------------------------------------- 10. the host repo is never touched


def test_host_repo_is_byte_identical_after_a_session(repo: Path, open_session: Callable[..., DockerSession]) -> None:
    (repo / "untracked.txt").write_text("untracked\n")
    before = tree_snapshot(repo)
    session = open_session(repo)
    assert session.call("edit_file", {"path": "app.py", "command": "replace", "old": "return 1", "new": "return 2"}).ok
    assert session.call("edit_file", {"path": "pkg/new.py", "command": "create", "new": "x = 1\n"}).ok
    sh(session, "rm README.md untracked.txt && echo more >> app.py && mkdir -p build && touch build/o "
                "&& chmod 777 app.py && ln -s /etc/passwd link && git config user.name evil "
                "&& git -c user.email=e@x commit -qam hijack && git tag evil && git gc -q 2>/dev/null; "
                "rm -rf .git/hooks; echo done")
    patch = session.patch()
    assert "pkg/new.py" in patch  # the edits did happen, in the copy
    session.close()
    assert tree_snapshot(repo) == before
    assert git(repo, "config", "user.name").strip() == "t"


# ---------------------------------------------------------------- 11. nothing left behind


def _labelled(run_id: str) -> list[Any]:
    return docker_client().containers.list(all=True, filters={"label": f"org.coder.run={run_id}"})


def test_no_container_left_after_close_or_exception(repo: Path, docker_images: dict[str, str]) -> None:
    sandbox = DockerSandbox(image=docker_images["plain"], limits=LIMITS)
    with sandbox.open(repo, WorkspaceOptions(bash_timeout=TIMEOUT)) as session:
        run_id = session.run_id
        assert len(_labelled(run_id)) == 1
    assert _labelled(run_id) == []
    with pytest.raises(RuntimeError, match="boom"):
        with sandbox.open(repo, WorkspaceOptions(bash_timeout=TIMEOUT)) as session:
            run_id = session.run_id
            assert len(_labelled(run_id)) == 1
            raise RuntimeError("boom")
    assert _labelled(run_id) == []


SIGINT_SCRIPT = """
import sys
from pathlib import Path
from coder.sandboxes.base import WorkspaceOptions
from coder.sandboxes.docker import DockerLimits, DockerSandbox

sandbox = DockerSandbox(image=sys.argv[2], limits=DockerLimits(memory="256m", pids=128, workspace_size="64m"))
with sandbox.open(Path(sys.argv[1]), WorkspaceOptions(bash_timeout=120)) as session:
    print("RUN", session.run_id, flush=True)
    session.call("bash", {"command": "echo calling; sleep 60"})
    print("FINISHED", flush=True)
"""


def test_no_container_left_after_sigint_mid_command(repo: Path, tmp_path: Path, docker_images: dict[str, str]) -> None:
    script = tmp_path / "hold.py"
    script.write_text(SIGINT_SCRIPT)
    proc = subprocess.Popen([sys.executable, str(script), str(repo), docker_images["plain"]],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("RUN "), (line, proc.stderr.read() if proc.stderr else "")
        run_id = line.split()[1]
        deadline = time.monotonic() + 20
        while not any("sleep 60" in " ".join(map(str, p)) for p in _top(run_id)):
            assert time.monotonic() < deadline, "the command never started"
            time.sleep(0.1)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode != 0 and "KeyboardInterrupt" in err and "FINISHED" not in err
    assert _labelled(run_id) == []


def _top(run_id: str) -> list[Any]:
    containers = _labelled(run_id)
    if not containers:
        return []
    try:
        return list(containers[0].top().get("Processes") or [])
    except Exception:
        return []


def test_prune_removes_a_leftover_container(docker_images: dict[str, str], tmp_path: Path) -> None:
    client = docker_client()
    leftover = client.containers.create(docker_images["plain"], command=["sleep", "60"],
                                        labels={LABEL: "1", "org.coder.run": "escape-suite"})
    assert _labelled("escape-suite")
    proc = subprocess.run([sys.executable, "-m", "coder.cli", "sandbox", "prune"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and "removed" in proc.stderr, proc.stderr
    assert _labelled("escape-suite") == []
    with pytest.raises(docker.errors.NotFound):
        leftover.reload()
