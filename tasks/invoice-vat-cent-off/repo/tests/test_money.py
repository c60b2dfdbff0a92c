from decimal import Decimal

import pytest

from invoicing import money, round_money
from invoicing.money import format_money


def test_money_from_string_is_exact():
    assert money("0.10") + money("0.20") == Decimal("0.30")


def test_money_refuses_floats():
    with pytest.raises(TypeError):
        money(0.1)


@pytest.mark.parametrize("amount,expected", [("1.234", "1.23"), ("1.236", "1.24"), ("7", "7.00")])
def test_round_money(amount, expected):
    assert round_money(Decimal(amount)) == Decimal(expected)


@pytest.mark.parametrize("amount,expected", [("0.125", "0.13"), ("1.005", "1.01"), ("-0.125", "-0.13")])
def test_round_money_halves_go_up(amount, expected):
    assert round_money(Decimal(amount)) == Decimal(expected)


def test_format_money():
    assert format_money(Decimal("1234.5")) == "1,234.50 EUR"
