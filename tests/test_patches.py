"""Splitting real git patches into hunks and applying any subset of them with real git."""

from __future__ import annotations

import itertools
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from coder.patches import parse_patch, select_hunks
from repo_helpers import git

BEFORE = {
    "app.py": "".join(f"line {i}\n" for i in range(1, 41)),
    "gone.txt": "bye\n",
    "logo.bin": bytes(range(200)),
    "run.sh": "echo hi\n",
}


def changed_repo(make_repo: Callable[..., Path]) -> tuple[Path, str]:
    repo = make_repo(BEFORE)
    text = (repo / "app.py").read_text().splitlines(keepends=True)
    text[1] = "line 2 changed\n"                  # hunk 1: a change
    text[19:19] = ["inserted a\n", "inserted b\n"]  # hunk 2: an insertion
    del text[35:37]                                # hunk 3: a deletion (lines 34-35)
    (repo / "app.py").write_text("".join(text))
    (repo / "gone.txt").unlink()
    (repo / "new.py").write_text("print('new')\n")
    (repo / "logo.bin").write_bytes(bytes(range(200, 0, -1)))
    (repo / "run.sh").chmod(0o755)
    git(repo, "add", "-A")
    patch = git(repo, "diff", "--cached", "--binary", "HEAD")
    git(repo, "reset", "-q", "--hard", "HEAD")
    return repo, patch


def applies(repo: Path, patch: str) -> bool:
    proc = subprocess.run(["git", "apply", "--check", "--binary", "-"], cwd=repo, input=patch.encode(),
                          capture_output=True)
    return proc.returncode == 0


def test_parse_round_trips_and_counts(make_repo: Callable[..., Path]) -> None:
    _, patch = changed_repo(make_repo)
    files = parse_patch(patch)
    assert "".join(f.text for f in files) == patch
    by_path = {f.path: f for f in files}
    assert set(by_path) == {"app.py", "gone.txt", "logo.bin", "new.py", "run.sh"}
    assert len(by_path["app.py"].hunks) == 3 and by_path["app.py"].status == "modified"
    assert [(h.added, h.removed) for h in by_path["app.py"].hunks] == [(1, 1), (2, 0), (0, 2)]
    assert by_path["gone.txt"].status == "deleted" and by_path["new.py"].status == "added"
    assert by_path["logo.bin"].hunks[0].whole_file and by_path["run.sh"].hunks[0].whole_file


def test_every_subset_of_hunks_applies_and_gives_exactly_those_changes(make_repo: Callable[..., Path]) -> None:
    repo, patch = changed_repo(make_repo)
    files = parse_patch(patch)
    app = next(i for i, f in enumerate(files) if f.path == "app.py")
    original = (repo / "app.py").read_text()
    for size in range(0, 4):
        for chosen in itertools.combinations(range(3), size):
            accepted = {(app, h) for h in chosen}
            subset = select_hunks(files, accepted)
            if not chosen:
                assert subset == ""
                continue
            assert applies(repo, subset), (chosen, subset)
            subprocess.run(["git", "apply", "-"], cwd=repo, input=subset.encode(), check=True)
            lines = (repo / "app.py").read_text().splitlines()
            assert ("line 2 changed" in lines) is (0 in chosen)
            assert ("inserted a" in lines) is (1 in chosen)
            assert ("line 34" not in lines) is (2 in chosen)
            (repo / "app.py").write_text(original)


def test_whole_patch_selected_is_the_patch(make_repo: Callable[..., Path]) -> None:
    repo, patch = changed_repo(make_repo)
    files = parse_patch(patch)
    everything = {(fi, hi) for fi, f in enumerate(files) for hi in range(len(f.hunks))}
    assert select_hunks(files, everything) == patch
    subprocess.run(["git", "apply", "--binary", "-"], cwd=repo, input=patch.encode(), check=True)
    assert not (repo / "gone.txt").exists() and (repo / "new.py").read_text() == "print('new')\n"
    assert (repo / "logo.bin").read_bytes() == bytes(range(200, 0, -1)) and (repo / "run.sh").stat().st_mode & 0o100


@pytest.mark.parametrize("patch", ["", "not a patch at all\n"])
def test_odd_input_does_not_crash(patch: str) -> None:
    files = parse_patch(patch)
    assert select_hunks(files, set()) == ""


def test_crlf_and_separators_inside_lines_survive_selection(make_repo: Callable[..., Path]) -> None:
    """Lines split on \\n only: a CRLF file, a form feed or U+2028 inside a line must reach git apply unchanged
    (splitlines() cut them into extra lines, so the reviewed and the applied patch differed and the apply failed)."""
    repo = make_repo({"win.txt": b"one\r\ntwo\r\n", "odd.py": "a = 1\n"})
    (repo / "win.txt").write_bytes(b"one\r\nTWO\r\nthree\r\n")
    (repo / "odd.py").write_text("a = 1\nb = '\x0c\x1c\x85\u2028'\n", encoding="utf-8")
    git(repo, "add", "-A")
    patch = subprocess.run(["git", "diff", "--cached", "--binary", "HEAD"], cwd=repo, capture_output=True,
                           check=True).stdout.decode("utf-8", errors="surrogateescape")
    git(repo, "reset", "-q", "--hard", "HEAD")
    files = parse_patch(patch)
    assert [f.path for f in files] == ["odd.py", "win.txt"]
    assert [(h.added, h.removed) for f in files for h in f.hunks] == [(1, 0), (2, 1)]
    everything = {(fi, hi) for fi, f in enumerate(files) for hi in range(len(f.hunks))}
    assert select_hunks(files, everything) == patch
    subprocess.run(["git", "apply", "-"], cwd=repo, input=patch.encode("utf-8", "surrogateescape"), check=True)
    assert (repo / "win.txt").read_bytes() == b"one\r\nTWO\r\nthree\r\n"
