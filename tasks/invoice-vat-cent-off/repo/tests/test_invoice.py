from decimal import Decimal

import pytest

from invoicing import Invoice, Line, render_invoice


def test_line_amounts():
    line = Line.of("Consulting", 3, "120.00", 20)
    assert (line.net, line.vat, line.gross) == (Decimal("360.00"), Decimal("72.00"), Decimal("432.00"))


def test_negative_vat_rate_is_refused():
    with pytest.raises(ValueError):
        Line.of("x", 1, "1.00", -5)


def test_simple_totals():
    invoice = Invoice("2024-001").add(Line.of("Book", 2, "15.00", 7)).add(Line.of("Pen", 1, "3.50", 19))
    assert invoice.net_total == Decimal("33.50")
    assert invoice.vat_total == Decimal("2.77")
    assert invoice.gross_total == Decimal("36.27")


def test_vat_by_rate():
    invoice = Invoice("2024-002").add(Line.of("A", 1, "10.00", 19)).add(Line.of("B", 1, "5.00", 19))
    assert invoice.vat_by_rate() == {Decimal("0.19"): Decimal("15.00")}


def test_empty_invoice():
    assert Invoice("2024-003").gross_total == Decimal("0.00")


def test_line_vat_rounds_half_cents_up():
    assert Line.of("Stamp", 1, "2.50", 5).vat == Decimal("0.13")


def test_vat_total_matches_the_vat_of_the_lines():
    invoice = Invoice("2024-004")
    for _ in range(3):
        invoice.add(Line.of("Coffee", 1, "1.10", 7))
    assert invoice.vat_total == sum(line.vat for line in invoice.lines)
    assert invoice.gross_total == sum(line.gross for line in invoice.lines)


def test_render_invoice():
    text = render_invoice(Invoice("2024-005").add(Line.of("Book", 2, "15.00", 7)))
    assert text.splitlines()[0] == "Invoice 2024-005"
    assert text.splitlines()[-1].endswith("32.10 EUR")
