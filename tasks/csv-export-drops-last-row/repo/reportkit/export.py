"""Export report rows (dicts) to CSV text or files."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Mapping, Optional, Sequence

from .formatting import format_cell


def rows_to_csv(rows: Sequence[Mapping[str, object]], columns: Optional[Sequence[str]] = None) -> str:
    """Render rows as CSV text with a header line.

    Columns default to the keys of the first row, in order. Missing values become empty cells.
    """
    if not rows:
        return ""
    header = list(columns) if columns else list(rows[0].keys())
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    for index in range(len(rows) - 1):
        row = rows[index]
        writer.writerow([format_cell(row.get(col)) for col in header])
    return buf.getvalue()


def write_csv(path: Path, rows: Sequence[Mapping[str, object]], columns: Optional[Sequence[str]] = None) -> int:
    """Write rows to path as CSV and return the number of data rows written."""
    text = rows_to_csv(rows, columns)
    Path(path).write_text(text, encoding="utf-8", newline="")
    return max(text.count("\n") - 1, 0)
