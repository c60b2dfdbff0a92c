"""Git patches split into files and hunks, and put back together from the hunks a reviewer accepted."""

from __future__ import annotations

import re
from dataclasses import dataclass

_HUNK_HEADER = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@(.*)$")


@dataclass(frozen=True)
class Hunk:
    """One @@ hunk (or, for binary and mode-only changes, the whole body as one unsplittable piece)."""

    header: str
    lines: tuple[str, ...]

    @property
    def whole_file(self) -> bool:
        return not self.header.startswith("@@")

    @property
    def added(self) -> int:
        return sum(1 for line in self.lines if line.startswith("+"))

    @property
    def removed(self) -> int:
        return sum(1 for line in self.lines if line.startswith("-"))

    @property
    def text(self) -> str:
        return "".join(line + "\n" for line in ((self.header,) if self.header else ()) + self.lines)


@dataclass(frozen=True)
class FilePatch:
    """The changes to one file: its `diff --git` header lines and its hunks."""

    path: str
    header: tuple[str, ...]
    hunks: tuple[Hunk, ...]

    @property
    def status(self) -> str:
        joined = "\n".join(self.header)
        if "new file mode" in joined:
            return "added"
        if "deleted file mode" in joined:
            return "deleted"
        if "rename from" in joined:
            return "renamed"
        return "modified"

    @property
    def text(self) -> str:
        return "".join(line + "\n" for line in self.header) + "".join(h.text for h in self.hunks)


def parse_patch(patch: str) -> list[FilePatch]:
    """Split a `git diff` patch into files and hunks (round-trips: joining the parts gives the patch back)."""
    files: list[FilePatch] = []
    blocks: list[list[str]] = []
    lines = patch.split("\n")  # not splitlines(): \r (CRLF files), \f or U+2028 inside a line belong to the line
    if lines[-1] == "":
        lines.pop()
    for line in lines:
        if line.startswith("diff --git ") or not blocks:
            blocks.append([])
        blocks[-1].append(line)
    for block in blocks:
        files.append(_parse_file(block))
    return files


def _parse_file(block: list[str]) -> FilePatch:
    first_hunk = next((i for i, line in enumerate(block) if line.startswith("@@")), None)
    binary = next((i for i, line in enumerate(block) if line.startswith(("GIT binary patch", "Binary files "))), None)
    if first_hunk is None:
        cut = binary if binary is not None else len(block)
        header, body = block[:cut], block[cut:]
        whole = (Hunk("", tuple(body)),) if body or cut == len(block) else ()
        return FilePatch(_path_of(header), tuple(header), whole)
    header = block[:first_hunk]
    hunks: list[Hunk] = []
    for line in block[first_hunk:]:
        if line.startswith("@@"):
            hunks.append(Hunk(line, ()))
        else:
            hunks[-1] = Hunk(hunks[-1].header, hunks[-1].lines + (line,))
    return FilePatch(_path_of(header), tuple(header), tuple(hunks))


def _path_of(header: list[str]) -> str:
    for line in header:
        if line.startswith("+++ b/"):
            return line[6:]
    for line in header:
        if line.startswith("--- a/"):
            return line[6:]
        if line.startswith("rename to "):
            return line[10:]
    first = header[0] if header else ""
    match = re.match(r"^diff --git a/(.*) b/(.*)$", first)
    return match.group(2) if match else first


def select_hunks(files: list[FilePatch], accepted: set[tuple[int, int]]) -> str:
    """A patch holding only the accepted (file index, hunk index) pairs, with hunk headers renumbered to match."""
    out: list[str] = []
    for fi, file in enumerate(files):
        chosen = [(hi, h) for hi, h in enumerate(file.hunks) if (fi, hi) in accepted]
        if not chosen:
            continue
        out.append("".join(line + "\n" for line in file.header))
        shift = 0  # lines added minus removed by the accepted hunks above this one
        for hi, hunk in enumerate(file.hunks):
            if (fi, hi) not in accepted:
                continue
            if hunk.whole_file:
                out.append(hunk.text)
                continue
            out.append(_renumbered(hunk, shift))
            shift += hunk.added - hunk.removed
    return "".join(out)


def _renumbered(hunk: Hunk, shift: int) -> str:
    match = _HUNK_HEADER.match(hunk.header)
    if match is None:
        return hunk.text
    old_start, old_len, _new_start, new_len, rest = match.groups()
    start, old_count, new_count = int(old_start), int(old_len or 1), int(new_len or 1)
    if old_count == 0:  # a pure insertion names the line it follows
        new = start + shift + 1
    elif new_count == 0:  # a pure deletion names the line before it on the new side
        new = start + shift - 1
    else:
        new = start + shift
    old_part = old_start + (f",{old_len}" if old_len is not None else "")
    new_part = str(new) + (f",{new_len}" if new_len is not None else "")
    return Hunk(f"@@ -{old_part} +{new_part} @@{rest}", hunk.lines).text
