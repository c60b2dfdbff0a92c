"""Money amounts as Decimals with two places."""

from __future__ import annotations

from decimal import Decimal
from typing import Union

Number = Union[int, str, Decimal]


def money(value: Number) -> Decimal:
    """An exact Decimal from an int, a string such as "12.50", or a Decimal (floats are refused)."""
    if isinstance(value, float):
        raise TypeError("use strings or Decimals for money, not floats")
    return Decimal(value)


def round_money(amount: Decimal) -> Decimal:
    """AMOUNT rounded to cents."""
    return round(amount, 2)


def format_money(amount: Decimal, currency: str = "EUR") -> str:
    """'1,234.50 EUR'."""
    return f"{amount:,.2f} {currency}"
