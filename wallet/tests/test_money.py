from decimal import Decimal

import pytest
from django.template import Context, Template

from wallet import money

NB = "\u00a0"


def test_format_money_groups_thousands_and_adds_the_symbol():
    assert money.format_money(1_250_000, "KZT") == f"12{NB}500{NB}₸"


def test_format_money_shows_decimals_only_when_there_are_some():
    assert money.format_money(1_250_050, "KZT") == f"12{NB}500.50{NB}₸"
    assert money.format_money(5, "KZT") == f"0.05{NB}₸"


def test_format_money_signs():
    assert money.format_money(-150_000, "KZT") == f"\u22121{NB}500{NB}₸"
    assert money.format_money(150_000, "KZT", signed=True) == f"+1{NB}500{NB}₸"
    assert money.format_money(0, "KZT", signed=True) == f"0{NB}₸"


def test_zero_decimal_currency_and_unknown_symbol():
    assert money.format_money(1500, "JPY") == f"1{NB}500{NB}JPY"


def test_to_major_and_to_minor_are_exact():
    assert money.to_major(1_250_050, "KZT") == Decimal("12500.50")
    assert money.to_minor("12 500,50", "KZT") == 1_250_050
    assert money.to_minor(Decimal("0.01"), "KZT") == 1
    assert money.to_minor(7, "KZT") == 700


@pytest.mark.parametrize("bad", ["1.001", "abc", "NaN", "Infinity", 1.5, True])
def test_to_minor_refuses_what_is_not_an_exact_amount(bad):
    with pytest.raises(ValueError):
        money.to_minor(bad, "KZT")


def test_to_major_refuses_non_integers():
    with pytest.raises(TypeError):
        money.to_major(1.5, "KZT")


def test_template_filters(settings):
    settings.SITE_CURRENCY = "KZT"
    html = Template(
        "{% load money %}{{ a|money }}|{{ b|money_signed:'KZT' }}|{{ a|money_major }}"
    ).render(Context({"a": 500_000, "b": -100}))
    assert html == f"5{NB}000{NB}₸|\u22121{NB}₸|5000"
