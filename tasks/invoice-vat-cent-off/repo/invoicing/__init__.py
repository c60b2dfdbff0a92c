"""invoicing: invoice lines with VAT, totals and a plain-text rendering."""

from .invoice import Invoice
from .lines import Line
from .money import money, round_money
from .render import render_invoice

__all__ = ["Invoice", "Line", "money", "render_invoice", "round_money"]
