"""Plain-text invoices for email."""

from __future__ import annotations

from .invoice import Invoice
from .money import format_money


def render_invoice(invoice: Invoice, currency: str = "EUR") -> str:
    rows = [f"Invoice {invoice.number}", ""]
    for line in invoice.lines:
        rows.append(f"{line.description:<24}{line.quantity:>6} x {format_money(line.unit_price, currency):>14}"
                    f"{format_money(line.net, currency):>16}")
    rows.append("")
    rows.append(f"{'Net':<24}{format_money(invoice.net_total, currency):>40}")
    rows.append(f"{'VAT':<24}{format_money(invoice.vat_total, currency):>40}")
    rows.append(f"{'Total':<24}{format_money(invoice.gross_total, currency):>40}")
    return "\n".join(rows)
