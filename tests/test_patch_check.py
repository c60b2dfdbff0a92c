"""The shared patch check: crafted git headers are refused, every patch real git writes passes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from coder.patch_check import UnsafePatch, check_against_host, check_patch, path_problem

HUNK = "@@ -0,0 +1 @@\n+x\n"


def new_file(path: str) -> str:
    return f"diff --git a/{path} b/{path}\nnew file mode 100644\n--- /dev/null\n+++ b/{path}\n{HUNK}"


def copy(src: str, dst: str, verb: str = "copy") -> str:
    return f"diff --git a/{src} b/{dst}\nsimilarity index 100%\n{verb} from {src}\n{verb} to {dst}\n"


def link(path: str, target: str) -> str:
    return (f"diff --git a/{path} b/{path}\nnew file mode 120000\nindex 0000000..1234567\n--- /dev/null\n"
            f"+++ b/{path}\n@@ -0,0 +1 @@\n+{target}\n\\ No newline at end of file\n")


CRAFTED = {
    "copy-from-etc-passwd": (copy("etc/passwd", "leak.txt").replace("from etc/passwd", "from /etc/passwd"),
                             "absolute"),
    "copy-from-etc-passwd-consistent": ("diff --git a//etc/passwd b/leak.txt\nsimilarity index 100%\n"
                                        "copy from /etc/passwd\ncopy to leak.txt\n", "absolute"),
    "copy-from-dotdot": (copy("../../../../etc/passwd", "leak.txt"), "outside the repository"),
    "copy-from-git-config": (copy(".git/config", "leak.txt"), ".git"),
    "copy-from-quoted-absolute": ('diff --git "a//etc/passwd" b/leak.txt\nsimilarity index 100%\n'
                                  'copy from "/etc/passwd"\ncopy to leak.txt\n', "absolute"),
    "copy-from-octal-escaped-dotdot": ('diff --git "a/\\056\\056/x" b/leak.txt\nsimilarity index 100%\n'
                                       'copy from "\\056\\056/x"\ncopy to leak.txt\n', "outside the repository"),
    "rename-into-git": (copy("x.txt", ".git/hooks/pre-commit", "rename"), ".git"),
    "rename-old-style-from-outside": (copy("../x", "y", "rename").replace("rename from", "rename old")
                                      .replace("rename to", "rename new"), "outside"),
    "new-in-git": (new_file(".git/hooks/post-checkout"), ".git"),
    "new-in-GIT": (new_file(".GIT/config"), ".git"),
    "new-in-git-dot": (new_file(".git./config"), ".git"),
    "new-in-git-space": (new_file(".git /config"), ".git"),
    "new-in-git-short-name": (new_file("GIT~1/config"), ".git"),
    "new-in-git-ntfs-stream": (new_file(".git::$INDEX_ALLOCATION/config"), ".git"),
    "new-in-git-hfs-ignorable": (new_file(".g\u200cit/config"), ".git"),
    "new-in-nested-git": (new_file("sub/.Git/config"), ".git"),
    "new-in-quoted-git": ('diff --git "a/.gi\\164/config" "b/.gi\\164/config"\nnew file mode 100644\n'
                          '--- /dev/null\n+++ "b/.gi\\164/config"\n' + HUNK, ".git"),
    "dotdot-in-name": (new_file("a/../../x"), "outside the repository"),
    "dot-component": (new_file("a/./x"), "not a plain path"),
    "empty-component": (new_file("a//x"), "not a plain path"),
    "backslash": ('diff --git "a/..\\\\x" "b/..\\\\x"\nnew file mode 100644\n--- /dev/null\n+++ "b/..\\\\x"\n' + HUNK,
                  "backslash"),
    "gitlink": ("diff --git a/sub b/sub\nnew file mode 160000\nindex 0000000..1234567\n--- /dev/null\n+++ b/sub\n"
                "@@ -0,0 +1 @@\n+Subproject commit 1234567890123456789012345678901234567890\n", "submodule"),
    "gitlink-via-index-line": ("diff --git a/sub b/sub\nindex 1234567..7654321 160000\n--- a/sub\n+++ b/sub\n"
                               "@@ -1 +1 @@\n-Subproject commit 1\n+Subproject commit 2\n", "submodule"),
    "gitlink-via-mode-change": ("diff --git a/x b/x\nold mode 100644\nnew mode 160000\n", "submodule"),
    "unknown-mode": ("diff --git a/x b/x\nold mode 100644\nnew mode 100777\n", "unknown mode"),
    "symlink-to-etc": (link("l", "/etc/passwd"), "points outside"),
    "symlink-up-and-out": (link("d/l", "../../x"), "points outside"),
    "symlink-via-link-dir": (link("l", "sub/../x"), "points outside"),
    "symlink-into-git": (link("l", ".git/config"), "into .git"),
    "symlink-gitattributes": (link(".gitattributes", "x"), "does not allow"),
    "symlink-by-mode-change": ("diff --git a/x b/x\nold mode 100644\nnew mode 120000\n", "without stating its target"),
    "symlink-binary": ("diff --git a/l b/l\nnew file mode 120000\nindex 0000000..1234567\nGIT binary patch\n"
                       "literal 4\nLcmZ?wbPfOj00001\n\n", "without stating its target"),
    "symlink-partial-hunk": ("diff --git a/l b/l\nindex 1234567..7654321 120000\n--- a/l\n+++ b/l\n"
                             "@@ -3,0 +4 @@\n+/etc\n\\ No newline at end of file\n", "without stating its target"),
    "garbled-header-line": (new_file("x").replace("new file mode", "X-Evil: 1\nnew file mode"), "line 2"),
    "garbled-mode": (new_file("x").replace("100644", "100644 junk"), "malformed 'new file mode'"),
    "garbled-index": ("diff --git a/x b/x\nindex 12..34 100644 extra\n--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n",
                      "malformed index"),
    "garbage-between-sections": (new_file("x") + "hello\n" + new_file("y"), "line 7"),
    "garbage-first": ("From: someone\n" + new_file("x"), "line 1"),
    "header-after-hunk": (new_file("x") + "copy from /etc/passwd\ncopy to leak\n", "line 7"),
    "hunk-longer-than-header": (new_file("x") + "+y\n", "line 7"),
    "hunk-without-header": ("@@ -1 +1 @@\n-a\n+b\n", "line 1"),
    "repeated-header": (copy("a", "b").replace("copy to b\n", "copy to b\ncopy from /etc/passwd\n"), "repeats"),
    "copy-from-only": ("diff --git a/a b/b\ncopy from a\n", "both its 'from' and 'to'"),
    "copy-mismatch": ("diff --git a/a b/b\nsimilarity index 100%\ncopy from c\ncopy to b\n", "does not match"),
    "two-names-no-rename": ("diff --git a/x b/y\n--- a/x\n+++ b/y\n@@ -1 +1 @@\n-a\n+b\n", "two different"),
    "minus-mismatch": ("diff --git a/x b/x\n--- a/../y\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n", "does not match"),
    "minus-without-prefix": ("diff --git a/x b/x\n--- x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n", "prefix"),
    "no-prefix-diff-git": ("diff --git x x\n--- x\n+++ x\n@@ -1 +1 @@\n-a\n+b\n", "prefix"),
    "ambiguous-spaces": ("diff --git a/x y b/z w\nnew file mode 100644\n" + HUNK, "cannot be told apart"),
    "carriage-return-name": ("diff --git a/x\r b/x\r\nnew file mode 100644\n" + HUNK, "control characters"),
    "bad-escape": ('diff --git "a/\\q" "b/\\q"\nnew file mode 100644\n' + HUNK, "bad escape"),
    "unterminated-quote": ('diff --git "a/x b/x\nnew file mode 100644\n' + HUNK, "unterminated"),
    "traditional-outside": ("--- a/../x\n+++ b/../x\n@@ -1 +1 @@\n-a\n+b\n", "outside"),
    "traditional-different": ("--- a/x\n+++ b/y\n@@ -1 +1 @@\n-a\n+b\n", "different files"),
    "traditional-no-slash": ("--- x.txt\n+++ x.txt\n@@ -1 +1 @@\n-a\n+b\n", "prefix"),
    "corrupt-binary": ("diff --git a/b b/b\nnew file mode 100644\nindex 0000000..1234567\nGIT binary patch\n"
                       "literal 4\n!!!!\n\n", "corrupt binary"),
    "only-garbage": ("this is not a diff\n", "line 1"),
    "empty": ("", "empty"),
    "new-and-deleted": ("diff --git a/x b/x\nnew file mode 100644\ndeleted file mode 100644\n", "contradict"),
    "drive-letter": (new_file("C:/x"), "drive"),
}


@pytest.mark.parametrize("patch,problem", CRAFTED.values(), ids=CRAFTED.keys())
def test_crafted_patches_are_refused(patch: str, problem: str) -> None:
    with pytest.raises(UnsafePatch, match=None) as info:
        check_patch(patch)
    message = str(info.value)
    assert problem in message, message
    assert "\n" not in message and "\r" not in message and "\x1b" not in message


def test_copy_from_etc_passwd_really_leaks_through_plain_git_apply(tmp_path: Path) -> None:
    """Why the check exists: git itself copies a host file named by a copy header (no copy-source check)."""
    repo = tmp_path / "r"
    repo.mkdir()
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    patch = tmp_path / "p"
    patch.write_text("diff --git a/x b/leak.txt\nsimilarity index 100%\ncopy from /etc/passwd\ncopy to leak.txt\n")
    subprocess.run(["git", "apply", str(patch)], cwd=repo, check=True, capture_output=True)
    assert (repo / "leak.txt").read_bytes() == Path("/etc/passwd").read_bytes()
    with pytest.raises(UnsafePatch):
        check_patch(patch.read_text())


# --- patches real git writes ----------------------------------------------------------------------------------


def git(repo: Path, *args: str, quotepath: bool = True) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@e", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@e"}
    proc = subprocess.run(["git", "-c", f"core.quotepath={str(quotepath).lower()}", *args], cwd=repo, env=env,
                          check=True, capture_output=True)
    return proc.stdout.decode("utf-8", errors="surrogateescape")


BASE = {"a.txt": b"one\ntwo\n", "script.sh": b"echo hi\n", "dir/b.txt": b"b\n", "old name.txt": b"spaced\n",
        "gone.txt": b"bye\n", "blob.bin": bytes(range(256)), "caf\u00e9.txt": b"utf8\n",
        b"lat\xe9.txt".decode("utf-8", "surrogateescape"): b"latin-1 name\n", "big.txt": b"line\n" * 40}


def _edit(root: Path) -> None:
    (root / "a.txt").write_bytes(b"one\nTWO\n")
    (root / "script.sh").chmod(0o755)
    (root / "dir" / "b.txt").rename(root / "dir" / "renamed.txt")
    (root / "old name.txt").rename(root / "new name.txt")
    (root / "gone.txt").unlink()
    (root / "blob.bin").write_bytes(bytes(reversed(range(256))) * 3)
    (root / "new.bin").write_bytes(b"\x00\x01\x02binary")
    (root / "caf\u00e9.txt").write_bytes(b"utf8 changed\n")
    (root / os.fsdecode(b"lat\xe9.txt")).write_bytes(b"latin-1 name changed\n")
    (root / 'say "hi".txt').write_bytes(b"quoted name\n")
    (root / "tab\there.txt").write_bytes(b"tab\n")
    (root / "empty.txt").write_bytes(b"")
    (root / "no-newline.txt").write_bytes(b"last")
    (root / "copy of big.txt").write_bytes(b"line\n" * 40 + b"more\n")
    os.symlink("dir/renamed.txt", root / "link")
    os.symlink("../a.txt", root / "dir" / "uplink")


@pytest.fixture
def edited_repo(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    repo.mkdir()
    for rel, data in BASE.items():
        path = repo / os.fsdecode(os.fsencode(rel))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "base")
    _edit(repo)
    git(repo, "add", "-A")
    return repo


@pytest.mark.parametrize("options", [
    ["--binary"], ["--binary", "-M"], ["--binary", "-C", "--find-copies-harder"], ["--binary", "-M", "-B"], ["--binary", "-R"],
    ["--binary", "--no-renames", "-U0"]], ids=["plain", "renames", "copies", "break-rewrites", "reverse", "U0"])
@pytest.mark.parametrize("quotepath", [True, False], ids=["quoted", "raw-names"])
def test_real_git_patches_pass_and_apply(edited_repo: Path, options: list[str], quotepath: bool,
                                         tmp_path: Path) -> None:
    patch = git(edited_repo, "diff", "--cached", "--no-color", "--no-ext-diff", *options, quotepath=quotepath)
    changes = check_patch(patch)
    assert changes
    if "-R" in options:
        return
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(edited_repo), str(clone))
    (tmp_path / "p").write_bytes(patch.encode("utf-8", errors="surrogateescape"))
    git(clone, "apply", "--check", "--binary", str(tmp_path / "p"))


def test_summary_of_a_real_patch(edited_repo: Path) -> None:
    changes = check_patch(git(edited_repo, "diff", "--cached", "--binary", "-M", quotepath=True))
    by_new = {c.new: c for c in changes if c.new is not None}
    assert by_new[b"dir/renamed.txt"].kind == "rename" and by_new[b"dir/renamed.txt"].old == b"dir/b.txt"
    assert by_new[b"new name.txt"].old == b"old name.txt"
    assert by_new[b"link"].link_target == b"dir/renamed.txt" and by_new[b"link"].result_mode == "120000"
    assert by_new[b"dir/uplink"].link_target == b"../a.txt"
    assert by_new[b"lat\xe9.txt"].kind == "modify" and by_new[b"tab\there.txt"].kind == "add"
    assert by_new[b"new.bin"].binary and by_new[b"script.sh"].result_mode == "100755"
    assert [c.old for c in changes if c.kind == "delete"] == [b"gone.txt"]


@pytest.mark.parametrize("path,ok", [
    (b"src/ok.py", True), (b".github/workflows/x.yml", True), (b".gitignore", True), (b"x.git", True),
    (b"git~10", True), (b"..x", True), (b"caf\xc3\xa9", True), (b"lat\xe9", True), (b"a b/c d", True),
    (b"../x", False), (b"/etc/x", False), (b"a/.git", False), (b".GiT", False), (b".git...", False),
    (b"a//b", False), (b"", False), (b"a/./b", False), (b"x\\y", False), (b"c:", False)])
def test_path_rules(path: bytes, ok: bool) -> None:
    assert (path_problem(path) is None) == ok


def test_host_links_and_submodules(edited_repo: Path) -> None:
    """A hunk applies to whatever is on the host: changing a host symlink needs the patch to state its target."""
    modify = check_patch("diff --git a/l b/l\n--- a/l\n+++ b/l\n@@ -1 +1 @@\n-docs\n+/etc\n")
    modes: dict[bytes, str] = {b"l": "120000", b"sub": "160000"}
    host: Callable[[bytes], str | None] = modes.get
    with pytest.raises(UnsafePatch, match="symbolic link on your side"):
        check_against_host(modify, host)
    with pytest.raises(UnsafePatch, match="symbolic link on your side"):
        check_against_host(check_patch(copy("l", "m", "rename")), host)
    with pytest.raises(UnsafePatch, match="submodule"):
        check_against_host(check_patch("diff --git a/sub b/sub\ndeleted file mode 100644\n"), host)
    check_against_host(modify, {}.get)  # a regular file on the host
    retarget = check_patch("diff --git a/l b/l\nindex 1234567..7654321 120000\n--- a/l\n+++ b/l\n@@ -1 +1 @@\n"
                           "-docs\n\\ No newline at end of file\n+src\n\\ No newline at end of file\n")
    check_against_host(retarget, host)
    check_against_host(check_patch("diff --git a/l b/l\ndeleted file mode 120000\n"), host)


# --- end to end: a forged patch out of the sandbox never reaches the user's repository --------------------------

sys.path.insert(0, str(Path(__file__).resolve().parent / "models"))
from fake_openai_server import FakeOpenAIServer, completion, native_call  # noqa: E402

FORGE = """import sys
import coder.sandboxes.rpc as rpc
rpc.ToolServerCalls.patch = lambda self: open(sys.argv[1]).read()  # what a channel attack (issue 13, item 1) did
from coder.cli import main
sys.exit(main(sys.argv[2:]))
"""
LEAK = "diff --git a/etc/passwd b/leak.txt\nsimilarity index 100%\ncopy from /etc/passwd\ncopy to leak.txt\n"


@pytest.mark.parametrize("deliver", [["--yes"], ["--branch", "coder/leak"]], ids=["yes", "branch"])
def test_forged_patch_is_refused_by_coder_fix(buggy_repo: Path, tmp_path: Path, deliver: list[str]) -> None:
    (tmp_path / "forged.patch").write_text(LEAK)
    (tmp_path / "forge.py").write_text(FORGE)
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("CODER_")}, "HOME": str(tmp_path / "home"),
           "XDG_CACHE_HOME": str(tmp_path / "cache"), "CODER_SANDBOX__KIND": "local",
           "PYTHONPATH": str(Path(__file__).resolve().parents[1]), "COLUMNS": "400"}
    edit = {"path": "calc.py", "command": "replace", "old": "return a - b", "new": "return a + b"}
    with FakeOpenAIServer() as server:
        server.reply(completion("", tool_calls=[native_call("c1", "edit_file", edit)]))
        server.reply(completion("", tool_calls=[native_call("c2", "submit", {"summary": "add adds"})]))
        proc = subprocess.run([sys.executable, str(tmp_path / "forge.py"), str(tmp_path / "forged.patch"), "fix",
                               "add() subtracts", *deliver, "--no-stream", "--base-url", server.base_url],
                              cwd=buggy_repo, env=env, capture_output=True, text=True, timeout=120,
                              stdin=subprocess.DEVNULL)
    assert proc.returncode == 2, proc.stderr
    assert "the patch was refused: the patch copies from '/etc/passwd', an absolute path" in proc.stderr
    assert "root:" not in proc.stderr + proc.stdout and "copy from" not in proc.stderr  # never shown
    assert not (buggy_repo / "leak.txt").exists()
    assert git(buggy_repo, "branch", "--format=%(refname:short)").split() == ["main"]
    assert git(buggy_repo, "status", "--porcelain") == ""
    trajectory = next((tmp_path / "cache" / "coder" / "trajectories").glob("*.jsonl"))
    final = [r["event"] for r in map(json.loads, trajectory.read_text().splitlines()) if r["kind"] == "event"][-1]
    assert final["type"] == "run_finished" and final["patch"] == "" and final["status"] == "error"
    assert final["message"].startswith("the patch was refused: ")
    assert not list(trajectory.parent.glob("*.patch"))


# --- differential: whatever passes the check, real git writes only what the check reported ---------------------

HOSTILE_LINES = [
    "copy from /etc/passwd", "copy to leak.txt", "copy from ../secret.txt", "rename from ../secret.txt",
    "rename to leak.txt", "rename from .git/config", "rename old ../secret.txt", "rename new leak.txt",
    'copy from "\\057etc\\057passwd"', "copy to d/../../leak.txt", "copy from a.txt", "new file mode 120000",
    "new file mode 160000", "old mode 100644", "new mode 120000", "similarity index 100%", "deleted file mode 100644",
    "index 0000000..1111111 120000", "--- a/../secret.txt", "+++ b/../leak.txt", "--- /dev/null", "+++ /dev/null",
    "--- a/a.txt", "+++ b/a.txt", "diff --git a/../secret.txt b/leak.txt", "diff --git a/leak.txt b/leak.txt",
    'diff --git "a/x" "b/leak.txt"', "diff --git a/a.txt b/a.txt", "@@ -0,0 +1 @@", "+../../etc",
    "\\ No newline at end of file", "", "Binary files a/x and b/x differ", "GIT binary patch", "literal 0",
    "HcmV?d00001"]


def test_mutated_patches_never_make_git_write_unreported_paths(tmp_path: Path) -> None:
    """Real patches with hostile header lines inserted, replaced or dropped (seeded): each one the check lets
    through is applied with plain `git apply`, which must change only reported paths, copy no host file and make no
    link that leaves the repository."""
    import random
    import shutil

    (tmp_path / "secret.txt").write_text("SECRET\n")
    base = tmp_path / "base"
    for rel, data in {"a.txt": b"one\ntwo\n", "d/b.txt": b"b\n", "x y.txt": b"sp\n"}.items():
        (base / rel).parent.mkdir(parents=True, exist_ok=True)
        (base / rel).write_bytes(data)
    (base / "l").symlink_to("a.txt")
    git(base, "init", "-q")
    git(base, "add", "-A")
    git(base, "commit", "-qm", "base")
    (base / "a.txt").write_bytes(b"one\nTWO\n")
    (base / "d" / "b.txt").rename(base / "d" / "c.txt")
    (base / "n.txt").write_bytes(b"n\n")
    (base / "x y.txt").chmod(0o755)
    git(base, "add", "-A")
    legit = git(base, "diff", "--cached", "--binary", "-M").splitlines()
    git(base, "reset", "-q", "--hard")
    git(base, "clean", "-qfd")
    forbidden = {(tmp_path / "secret.txt").read_bytes(), Path("/etc/passwd").read_bytes()}
    rng = random.Random(13)
    passed = 0
    for attempt in range(400):
        lines = list(legit)
        for _ in range(rng.randint(1, 4)):
            choice, where = rng.random(), rng.randrange(len(lines) + 1)
            if choice < 0.5:
                lines.insert(where, rng.choice(HOSTILE_LINES))
            elif where < len(lines):
                if choice < 0.8:
                    lines[where] = rng.choice(HOSTILE_LINES)
                else:
                    del lines[where]
        patch = "\n".join(lines) + "\n"
        try:
            changes = check_patch(patch)
        except UnsafePatch:
            continue
        passed += 1
        reported = {os.fsdecode(p) for c in changes for p in (c.old, c.new) if p is not None}
        clone = tmp_path / f"try{attempt}"
        git(tmp_path, "clone", "-q", str(base), str(clone))
        (tmp_path / "p").write_text(patch)
        if subprocess.run(["git", "apply", "--binary", str(tmp_path / "p")], cwd=clone,
                          capture_output=True).returncode == 0:
            status = git(clone, "status", "--porcelain", "-z", "--untracked-files=all", "--no-renames")
            changed = {entry[3:] for entry in status.split("\0") if entry}
            assert changed <= reported, (patch, changed - reported)
            for path in clone.rglob("*"):
                if path.is_symlink():
                    target = os.readlink(path)
                    assert not target.startswith("/") and ".." not in target.split("/"), (patch, path, target)
                elif path.is_file() and ".git" not in path.relative_to(clone).parts:
                    assert path.read_bytes() not in forbidden, (patch, path)
        shutil.rmtree(clone)
    assert passed >= 5  # the mutations do reach git
