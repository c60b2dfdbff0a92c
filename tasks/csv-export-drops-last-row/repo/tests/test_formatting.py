from datetime import date
from decimal import Decimal

from reportkit.formatting import format_cell


def test_none_is_blank():
    assert format_cell(None) == ""


def test_money_has_two_decimals():
    assert format_cell(3.5) == "3.50"
    assert format_cell(Decimal("2")) == "2.00"


def test_dates_are_iso():
    assert format_cell(date(2024, 2, 29)) == "2024-02-29"


def test_booleans():
    assert [format_cell(True), format_cell(False)] == ["yes", "no"]
