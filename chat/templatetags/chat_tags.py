from django import template
from django.urls import NoReverseMatch

register = template.Library()


@register.filter
def listing_url(listing) -> str:
    """The listing page; its literal path until the listings pages are merged."""
    try:
        return listing.get_absolute_url()
    except NoReverseMatch:
        return f"/listings/{listing.pk}/"


@register.filter
def money(amount, currency="") -> str:
    """Minor units as a readable amount: 100000 -> "1,000"."""
    try:
        major = int(amount) // 100
    except (TypeError, ValueError):
        return ""
    return f"{major:,} {currency}".strip()
