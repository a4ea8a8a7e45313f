"""{% load money %}: {{ amount|money }}, {{ amount|money:"USD" }},
{{ entry.amount|money_signed:currency }}, {{ amount|money_major }} (form values)."""

from django import template

from wallet import money as money_module

register = template.Library()


@register.filter
def money(amount, currency=None):
    if amount is None or amount == "":
        return ""
    return money_module.format_money(int(amount), currency or None)


@register.filter
def money_signed(amount, currency=None):
    if amount is None or amount == "":
        return ""
    return money_module.format_money(int(amount), currency or None, signed=True)


@register.filter
def money_major(amount, currency=None):
    """Minor units as a plain major-unit number for inputs: 500000 -> "5000"."""
    if amount is None or amount == "":
        return ""
    value = money_module.to_major(int(amount), currency or None)
    return format(value.normalize(), "f")
