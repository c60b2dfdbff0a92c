"""Render rows as an aligned table with an optional header line."""

from __future__ import annotations

from typing import List, Optional, Sequence

from .text import pad, strip_ansi


def render(rows: Sequence[Sequence[object]], headers: Optional[Sequence[str]] = None,
           align: Optional[Sequence[str]] = None, sep: str = "  ") -> str:
    table: List[List[str]] = [[str(cell) for cell in row] for row in rows]
    if headers:
        table.insert(0, list(headers))
    if not table:
        return ""
    ncols = max(len(row) for row in table)
    for row in table:
        row.extend([""] * (ncols - len(row)))
    widths = [max(len(strip_ansi(row[i])) for row in table) for i in range(ncols)]
    aligns = list(align or []) + ["left"] * ncols
    lines = []
    for number, row in enumerate(table):
        lines.append(sep.join(pad(cell, widths[i], aligns[i]) for i, cell in enumerate(row)).rstrip())
        if headers and number == 0:
            lines.append(sep.join("-" * width for width in widths))
    return "\n".join(lines)
