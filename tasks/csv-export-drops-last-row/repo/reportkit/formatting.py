"""How single values are written into a CSV cell."""

from __future__ import annotations

from datetime import date
from decimal import Decimal


def format_cell(value: object) -> str:
    """None becomes an empty cell, money-like numbers get two decimals, dates are ISO."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (float, Decimal)):
        return f"{value:.2f}"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)
