"""One invoice line: quantity x unit price, with a VAT rate."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from .money import Number, money, round_money


@dataclass(frozen=True)
class Line:
    description: str
    quantity: Decimal
    unit_price: Decimal
    vat_rate: Decimal

    @classmethod
    def of(cls, description: str, quantity: Number, unit_price: Number, vat_percent: Number) -> "Line":
        rate = money(vat_percent) / 100
        if rate < 0:
            raise ValueError("VAT rate cannot be negative")
        return cls(description, money(quantity), money(unit_price), rate)

    @property
    def net(self) -> Decimal:
        return round_money(self.quantity * self.unit_price)

    @property
    def vat(self) -> Decimal:
        return round_money(self.net * self.vat_rate)

    @property
    def gross(self) -> Decimal:
        return self.net + self.vat
