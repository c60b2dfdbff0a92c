"""The patch as review shows it: binary changes named with their sizes (never base85), quoted names decoded."""

from __future__ import annotations

import subprocess
from pathlib import Path

from coder.patch_view import BinaryChange, binary_changes, file_name, review_text
from coder.patches import parse_patch
from repo_helpers import git


def staged_patch(repo: Path) -> str:
    git(repo, "add", "-A")
    out = subprocess.run(["git", "diff", "--cached", "--binary"], cwd=repo, capture_output=True, check=True).stdout
    return out.decode("utf-8", errors="surrogateescape")


def test_binary_changes_report_git_sizes(tmp_path: Path) -> None:
    repo = tmp_path / "r"
    repo.mkdir()
    git(repo, "init", "-q")
    (repo / "small.bin").write_bytes(b"a\0b")
    (repo / "big.bin").write_bytes(bytes(range(256)) * 80)
    (repo / "gone.bin").write_bytes(b"\0" * 10)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "i")
    (repo / "small.bin").write_bytes(b"a\0c\1\2\3")
    (repo / "big.bin").write_bytes(bytes(range(256)) * 80 + b"tail\0")  # git writes this one as a delta
    (repo / "gone.bin").unlink()
    (repo / "new.bin").write_bytes(b"\0\1\2\3\4")
    patch = staged_patch(repo)
    assert "delta " in patch
    changes = {c.path: c for c in binary_changes(patch)}
    assert changes == {
        "big.bin": BinaryChange("big.bin", "modified", 20485, 20480, True),
        "gone.bin": BinaryChange("gone.bin", "deleted", 0, 10, True),
        "new.bin": BinaryChange("new.bin", "added", 5, 0, True),
        "small.bin": BinaryChange("small.bin", "modified", 6, 3, True),
    }
    shown = review_text(patch)
    assert "GIT binary patch" not in shown and "literal" not in shown and "delta" not in shown
    assert "*** binary change: big.bin (modified): 20485 bytes, was 20480 bytes; content not shown ***" in shown
    assert "*** binary change: gone.bin (deleted): was 10 bytes ***" in shown
    assert "*** binary change: new.bin (added): 5 bytes; content not shown ***" in shown


def test_binary_without_content_and_malformed_data() -> None:
    patch = ("diff --git a/z.png b/z.png\nindex 1..2 100644\nBinary files a/z.png and b/z.png differ\n"
             "diff --git a/d.bin b/d.bin\nindex 1..2 100644\nGIT binary patch\ndelta 15\nW!!!!!\n\ndelta 9\n?\n\n")
    (no_content, malformed) = binary_changes(patch)
    assert no_content.describe() == "binary change: z.png (modified): content not in the patch (it cannot be applied)"
    assert malformed.describe() == "binary change: d.bin (modified): size unknown, was size unknown; content not shown"


def test_review_text_keeps_text_hunks_and_shows_what_hides() -> None:
    patch = ("diff --git a/m.py b/m.py\n--- a/m.py\n+++ b/m.py\n@@ -1 +1,2 @@\n x\n+y\x1b[2K\r\n"
             "+GIT binary patch\n")
    assert review_text(patch) == patch.replace("\x1b", "\\x1b").replace("\r", "\\r")
    assert binary_changes(patch) == []  # a line inside a hunk is text, not a binary marker


def test_quoted_file_names_are_decoded() -> None:
    patch = ('diff --git "a/caf\\303\\251 \\377.txt" "b/caf\\303\\251 \\377.txt"\nnew file mode 100644\n'
             'index 0000000..1\nBinary files /dev/null and "b/caf\\303\\251 \\377.txt" differ\n')
    (file,) = parse_patch(patch)
    assert file_name(file) == "café \udcff.txt"
    assert "binary change: café \\xff.txt (added)" in review_text(patch)
    text = 'diff --git a/x b/x\n--- "a/tab\\there"\n+++ "b/tab\\there"\n@@ -1 +1 @@\n-a\n+b\n'
    assert file_name(parse_patch(text)[0]) == "tab\there"
