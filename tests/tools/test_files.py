"""Tests for view_file and edit_file: windows, directories, odd files, every edit command, undo, path safety."""

from __future__ import annotations

from pathlib import Path

import pytest

from coder_tools.base import MAX_FILE_BYTES, ToolError, Workspace
from coder_tools.edit import EditFileArgs
from coder_tools.files import ViewFileArgs, view_file
from coder_tools.server import run_tool


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    root = tmp_path / "repo"
    root.mkdir()
    (root / "pkg").mkdir()
    (root / "pkg" / "mod.py").write_text("".join(f"line {i}\n" for i in range(1, 501)))
    (root / "small.py").write_text("def f():\n    return 1\n\n\ndef g():\n    return 1\n")
    (tmp_path / "outside.txt").write_text("secret\n")
    (tmp_path / "outdir").mkdir()
    (tmp_path / "outdir" / "x.txt").write_text("secret\n")
    return Workspace(root)


def view(ws: Workspace, path: str, start: int | None = None, end: int | None = None) -> str:
    return view_file(ViewFileArgs(path=path, start_line=start, end_line=end), ws).output


def edit(ws: Workspace, **kw: object) -> tuple[bool, str, dict[str, object]]:
    result = run_tool(ws, "edit_file", kw)
    return result.ok, result.output, result.data


# ---- view_file ----------------------------------------------------------------------------------


def test_view_default_window_is_numbered_and_says_how_to_see_more(ws: Workspace) -> None:
    out = view(ws, "pkg/mod.py")
    assert "lines 1-200 of 500" in out
    assert "   1\tline 1\n" in out
    assert " 200\tline 200" in out
    assert "line 201" not in out
    assert "start_line=201" in out


def test_view_explicit_window_and_end_of_file(ws: Workspace) -> None:
    out = view(ws, "pkg/mod.py", 495, 600)
    assert "lines 495-500 of 500" in out and "end of file" in out
    assert " 495\tline 495" in out
    assert "lines 10-500 of 500" in view(ws, "pkg/mod.py", 10, -1)


def test_view_out_of_range_lines(ws: Workspace) -> None:
    with pytest.raises(ToolError, match="past the end.*500 lines"):
        view(ws, "pkg/mod.py", 501)
    with pytest.raises(ToolError, match="before start_line"):
        view(ws, "pkg/mod.py", 20, 10)
    with pytest.raises(ToolError, match="before start_line"):
        view(ws, "pkg/mod.py", 1, 0)
    result = run_tool(ws, "view_file", {"path": "pkg/mod.py", "start_line": 0})
    assert not result.ok and "start_line" in result.output


def test_view_window_fits_output_cap(ws: Workspace) -> None:
    ws.options.output_cap = 2000
    (ws.root / "wide.txt").write_text(("x" * 100 + "\n") * 100)
    result = run_tool(ws, "view_file", {"path": "wide.txt"})
    assert "elided" not in result.output
    end = result.data["end_line"]
    assert isinstance(end, int) and 5 < end < 100
    assert f"start_line={end + 1}" in result.output


def test_view_empty_file(ws: Workspace) -> None:
    (ws.root / "empty.txt").write_text("")
    assert "empty (0 lines)" in view(ws, "empty.txt")


def test_view_directory_lists_entries_without_git(ws: Workspace) -> None:
    (ws.root / ".git").mkdir()
    out = view(ws, ".")
    assert "pkg/" in out.splitlines() and "small.py" in out.splitlines()
    assert ".git" not in out
    assert "mod.py" in view(ws, "pkg")


def test_view_directory_is_capped(ws: Workspace) -> None:
    big = ws.root / "many"
    big.mkdir()
    for i in range(350):
        (big / f"f{i:03}.txt").write_text("")
    out = view(ws, "many")
    assert "50 more entries" in out
    assert "f299.txt" in out and "f300.txt" not in out


def test_view_binary_and_huge_files_are_refused(ws: Workspace) -> None:
    (ws.root / "blob.bin").write_bytes(b"\x00\x01\x02" * 10)
    (ws.root / "huge.txt").write_bytes(b"a\n" * (MAX_FILE_BYTES // 2 + 10))
    with pytest.raises(ToolError, match="binary"):
        view(ws, "blob.bin")
    with pytest.raises(ToolError, match="limit"):
        view(ws, "huge.txt")


def test_view_non_utf8_shows_replacement_character(ws: Workspace) -> None:
    (ws.root / "latin.txt").write_bytes(b"caf\xe9\n")
    assert "caf\ufffd" in run_tool(ws, "view_file", {"path": "latin.txt"}).output


def test_view_crlf_lines_show_without_carriage_returns(ws: Workspace) -> None:
    (ws.root / "dos.txt").write_bytes(b"a\r\nb\r\n")
    out = view(ws, "dos.txt")
    assert "\r" not in out and "   2\tb" in out


# ---- edit_file: replace -------------------------------------------------------------------------


def test_replace_unique(ws: Workspace) -> None:
    old, new = "def f():\n    return 1", "def f():\n    return 2"
    ok, out, data = edit(ws, path="small.py", command="replace", old=old, new=new)
    assert ok, out
    assert (ws.root / "small.py").read_text().startswith("def f():\n    return 2\n")
    assert "   2\t    return 2" in out
    assert data["path"] == "small.py"
    diff = str(data["diff"])
    assert diff.startswith("--- a/small.py\n+++ b/small.py\n")
    assert "-    return 1\n+    return 2\n" in diff


def test_replace_many_reports_count_and_lines(ws: Workspace) -> None:
    ok, out, _ = edit(ws, path="small.py", command="replace", old="return 1", new="return 2")
    assert not ok
    assert "2 times" in out and "lines 2, 6" in out and "more surrounding lines" in out
    assert (ws.root / "small.py").read_text().count("return 1") == 2


def test_replace_not_found_shows_closest_lines(ws: Workspace) -> None:
    ok, out, _ = edit(ws, path="small.py", command="replace", old="def g():\nreturn 1", new="x")
    assert not ok and "not found" in out
    assert "different indentation" in out and "lines 5-6" in out and "   6\t    return 1" in out
    ok, out, _ = edit(ws, path="small.py", command="replace", old="def gg():\n    return 11", new="x")
    assert not ok and "most similar" in out and "def g" in out


def test_replace_validation_messages(ws: Workspace) -> None:
    ok, out, _ = edit(ws, path="small.py", command="replace", new="x")
    assert not ok and "missing old" in out
    ok, out, _ = edit(ws, path="small.py", command="replace", old="", new="x")
    assert not ok and "insert" in out
    ok, out, _ = edit(ws, path="small.py", command="replace", old="def f", new="x", line=3)
    assert not ok and "does not use line" in out
    ok, out, _ = edit(ws, path="small.py", command="replace", old="def f", new="def f")
    assert not ok and "identical" in out


def test_replace_keeps_crlf_line_endings(ws: Workspace) -> None:
    path = ws.root / "dos.txt"
    path.write_bytes(b"one\r\ntwo\r\nthree\r\n")
    ok, out, _ = edit(ws, path="dos.txt", command="replace", old="one\ntwo\n", new="ONE\nTWO\n")
    assert ok, out
    assert path.read_bytes() == b"ONE\r\nTWO\r\nthree\r\n"


def test_non_utf8_round_trip_is_byte_identical_except_the_edit(ws: Workspace) -> None:
    path = ws.root / "latin.py"
    original = b"# caf\xe9\nx = 1\n# \xff\xfe end\n"
    path.write_bytes(original)
    ok, out, data = edit(ws, path="latin.py", command="replace", old="x = 1", new="x = 2")
    assert ok, out
    assert path.read_bytes() == original.replace(b"x = 1", b"x = 2")
    assert "\ufffd" in str(data["diff"])  # the diff sent to the host is valid text
    ok, out, _ = edit(ws, path="latin.py", command="undo")
    assert ok and path.read_bytes() == original


def test_python_syntax_error_is_flagged(ws: Workspace) -> None:
    ok, out, _ = edit(ws, path="small.py", command="replace", old="def f():", new="def f(:")
    assert ok and "syntax error at line 1" in out


# ---- edit_file: insert / create / undo ----------------------------------------------------------


def test_insert_at_top_middle_and_end(ws: Workspace) -> None:
    path = ws.root / "t.txt"
    path.write_text("a\nb")  # no final newline
    assert edit(ws, path="t.txt", command="insert", line=0, new="top")[0]
    assert edit(ws, path="t.txt", command="insert", line=2, new="mid\nmid2\n")[0]
    ok, out, _ = edit(ws, path="t.txt", command="insert", line=5, new="end")
    assert ok and "inserted line 6" in out
    assert path.read_text() == "top\na\nmid\nmid2\nb\nend\n"
    ok, out, _ = edit(ws, path="t.txt", command="insert", line=99, new="x")
    assert not ok and "6 lines" in out and "line=6" in out


def test_insert_needs_line(ws: Workspace) -> None:
    ok, out, _ = edit(ws, path="small.py", command="insert", new="x")
    assert not ok and "missing line" in out


def test_create_and_undo_of_create_removes_file_and_new_dirs(ws: Workspace) -> None:
    ok, out, data = edit(ws, path="new/deep/file.py", command="create", new="print('hi')\n")
    assert ok, out
    assert (ws.root / "new/deep/file.py").read_text() == "print('hi')\n"
    assert str(data["diff"]).startswith("--- /dev/null\n+++ b/new/deep/file.py\n")
    ok, out, data = edit(ws, path="new/deep/file.py", command="undo")
    assert ok and "deleted" in out
    assert not (ws.root / "new").exists()
    assert "+++ /dev/null" in str(data["diff"])


def test_create_refuses_existing_file(ws: Workspace) -> None:
    ok, out, _ = edit(ws, path="small.py", command="create", new="x")
    assert not ok and "already exists" in out and "replace" in out
    ok, out, _ = edit(ws, path="pkg", command="create", new="x")
    assert not ok and "directory" in out


def test_undo_is_a_stack_per_path(ws: Workspace) -> None:
    path = ws.root / "small.py"
    original = path.read_text()
    edit(ws, path="small.py", command="replace", old="def f", new="def f1")
    edit(ws, path="small.py", command="replace", old="def g", new="def g1")
    edit(ws, path="pkg/mod.py", command="insert", line=0, new="header")
    ok, out, data = edit(ws, path="small.py", command="undo")
    assert ok and "def g():" in out and "def f1" in path.read_text()
    assert "-def g1():\n+def g():\n" in str(data["diff"])
    assert edit(ws, path="small.py", command="undo")[0]
    assert path.read_text() == original
    ok, out, _ = edit(ws, path="small.py", command="undo")
    assert not ok and "nothing to undo" in out
    assert (ws.root / "pkg/mod.py").read_text().startswith("header\n")


def test_undo_with_nothing_to_undo(ws: Workspace) -> None:
    ok, out, _ = edit(ws, path="small.py", command="undo")
    assert not ok and "nothing to undo" in out
    ok, out, _ = edit(ws, path="small.py", command="undo", new="x")
    assert not ok and "does not use new" in out


def test_undo_notes_changes_made_outside_edit_file(ws: Workspace) -> None:
    edit(ws, path="small.py", command="replace", old="def f", new="def f1")
    (ws.root / "small.py").write_text("changed by bash\n")
    ok, out, _ = edit(ws, path="small.py", command="undo")
    assert ok and "changed since that edit" in out


def test_edit_binary_file_is_refused(ws: Workspace) -> None:
    (ws.root / "blob.bin").write_bytes(b"\x00abc")
    ok, out, _ = edit(ws, path="blob.bin", command="replace", old="abc", new="x")
    assert not ok and "binary" in out


# ---- path safety and argument checking -----------------------------------------------------------


def _escapes(ws: Workspace) -> list[str]:
    outside = ws.root.parent
    (ws.root / "link_file").symlink_to(outside / "outside.txt")
    (ws.root / "link_dir").symlink_to(outside / "outdir")
    absolute = str(outside / "outside.txt")
    return ["../outside.txt", absolute, "/etc/passwd", "link_file", "link_dir/x.txt", "pkg/../../outside.txt"]


def test_view_rejects_paths_outside(ws: Workspace) -> None:
    for path in _escapes(ws) + ["link_dir"]:
        result = run_tool(ws, "view_file", {"path": path})
        assert not result.ok and "outside the repository" in result.output, path
        assert "secret" not in result.output


def test_edit_rejects_paths_outside(ws: Workspace) -> None:
    for path in _escapes(ws):
        for args in (
            {"command": "replace", "old": "secret", "new": "pwned"},
            {"command": "insert", "line": 0, "new": "pwned"},
            {"command": "undo"},
        ):
            result = run_tool(ws, "edit_file", {"path": path, **args})
            assert not result.ok and "outside the repository" in result.output, (path, args)
    for path in ("../new.txt", "link_dir/new.txt", "/tmp/coder_new.txt"):
        result = run_tool(ws, "edit_file", {"path": path, "command": "create", "new": "pwned"})
        assert not result.ok and "outside the repository" in result.output, path
    assert (ws.root.parent / "outside.txt").read_text() == "secret\n"
    assert sorted(p.name for p in (ws.root.parent / "outdir").iterdir()) == ["x.txt"]
    assert not (ws.root.parent / "new.txt").exists()


def test_unknown_arguments_are_rejected(ws: Workspace) -> None:
    result = run_tool(ws, "view_file", {"path": "small.py", "lines": "1-5"})
    assert not result.ok and "lines" in result.output and "Extra inputs" in result.output
    result = run_tool(ws, "edit_file", {"path": "small.py", "command": "replace", "old": "a", "new": "b", "x": 1})
    assert not result.ok and "Extra inputs" in result.output
    result = run_tool(ws, "edit_file", {"path": "small.py", "command": "delete"})
    assert not result.ok and "command" in result.output


def test_schemas_describe_every_field() -> None:
    for args in (ViewFileArgs, EditFileArgs):
        props = args.model_json_schema()["properties"]
        assert all(p.get("description") for p in props.values()), args


# ---- paths git refuses ---------------------------------------------------------------------------

GIT_REFUSED = [".GIT/config", ".git./x", "pkg/.Git/y", "pkg/.git /z", "git~1/a", "GIT~1", ".g\u200cit/h", ".git:s",
               ".git/config", ".git/hooks/pre-commit", "pkg/.git", "a\\.git/b"]


@pytest.mark.parametrize("path", GIT_REFUSED)
def test_edits_to_paths_git_refuses_are_refused(ws: Workspace, path: str) -> None:
    ok, out, _ = edit(ws, path=path, command="create", new="x\n")
    assert not ok and "refusing" in out and "git" in out, out
    made = [p for p in ws.root.rglob("*") if p.name not in ("mod.py", "small.py", "pkg")]
    assert not made, made


def test_edits_through_a_link_into_dot_git_are_refused(ws: Workspace) -> None:
    (ws.root / ".git").mkdir()
    (ws.root / ".git" / "config").write_text("[core]\n")
    (ws.root / "cfg").symlink_to(ws.root / ".git")
    ok, out, _ = edit(ws, path="cfg/config", command="replace", old="[core]", new="[core]\n\thooksPath = /tmp")
    assert not ok and "refusing" in out
    assert (ws.root / ".git" / "config").read_text() == "[core]\n"


@pytest.mark.parametrize("path", [".github/ci.yml", ".gitignore", "pkg/.gitkeep", "git~1x", ".gitx/a", "..git"])
def test_names_that_only_resemble_dot_git_are_fine(ws: Workspace, path: str) -> None:
    ok, out, _ = edit(ws, path=path, command="create", new="x\n")
    assert ok, out
