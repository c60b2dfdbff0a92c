"""An invoice: its lines and totals."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Dict, List

from .lines import Line
from .money import round_money


@dataclass
class Invoice:
    number: str
    lines: List[Line] = field(default_factory=list)

    def add(self, line: Line) -> "Invoice":
        self.lines.append(line)
        return self

    @property
    def net_total(self) -> Decimal:
        return sum((line.net for line in self.lines), Decimal("0.00"))

    @property
    def vat_total(self) -> Decimal:
        return round_money(sum((line.net * line.vat_rate for line in self.lines), Decimal("0.00")))

    @property
    def gross_total(self) -> Decimal:
        return self.net_total + self.vat_total

    def vat_by_rate(self) -> Dict[Decimal, Decimal]:
        """Net amount per VAT rate, for the summary box."""
        summary: Dict[Decimal, Decimal] = {}
        for line in self.lines:
            summary[line.vat_rate] = summary.get(line.vat_rate, Decimal("0.00")) + line.net
        return summary
