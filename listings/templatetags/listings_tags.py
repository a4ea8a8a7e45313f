"""Template helpers of the listings pages: prices, maps, optional links."""

from urllib.parse import urlencode

from django import template
from django.conf import settings
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html, format_html_join

from listings.pricing import price_display
from listings.services.transitions import listing_owner_actions

register = template.Library()


@register.filter
def money(listing_or_amount, currency=None):
    """`{{ listing|money }}` or `{{ amount|money:"KZT" }}` (amount in minor units)."""
    if listing_or_amount is None or listing_or_amount == "":
        return ""
    if hasattr(listing_or_amount, "price"):
        return price_display(listing_or_amount.price, listing_or_amount.currency)
    return price_display(listing_or_amount, currency or settings.SITE_CURRENCY)


@register.filter
def distance(metres):
    """ "850 m" or "12.4 km" from a distance in metres (a float or a Distance)."""
    if metres is None or metres == "":
        return ""
    value = getattr(metres, "m", metres)
    value = float(value)
    if value < 1000:
        return f"{round(value / 10) * 10:.0f} m"
    if value < 10_000:
        return f"{value / 1000:.1f} km"
    return f"{value / 1000:.0f} km"


@register.simple_tag
def optional_url(name, *args, **kwargs):
    """The URL named `name`, or "" when no app provides it (yet)."""
    try:
        return reverse(name, args=args, kwargs=kwargs)
    except NoReverseMatch:
        return ""


@register.simple_tag(takes_context=True)
def query_with(context, **changes):
    """The current query string with some parameters changed (None drops one)."""
    request = context["request"]
    query = request.GET.copy()
    for key, value in changes.items():
        if value is None or value == "":
            query.pop(key, None)
        else:
            query[key] = value
    encoded = query.urlencode()
    return f"?{encoded}" if encoded else "?"


@register.simple_tag(takes_context=True)
def query_without(context, *keys):
    """The current query string without the given parameters and the page."""
    request = context["request"]
    query = request.GET.copy()
    for key in (*keys, "page"):
        query.pop(key, None)
    encoded = query.urlencode()
    return f"?{encoded}" if encoded else "?"


@register.simple_tag
def map_attrs():
    """Data attributes that configure a Leaflet map: tile URL and attribution."""
    center = settings.MAP_DEFAULT_CENTER
    return format_html(
        'data-tile-url="{}" data-tile-attribution="{}" '
        'data-default-lat="{}" data-default-lng="{}" data-default-zoom="{}"',
        settings.MAP_TILE_URL,
        settings.MAP_TILE_ATTRIBUTION,
        center[0],
        center[1],
        settings.MAP_DEFAULT_ZOOM,
    )


@register.simple_tag
def search_url(**params):
    """/search/?… from keyword arguments, skipping empty ones."""
    query = {key: value for key, value in params.items() if value not in (None, "")}
    base = reverse("listings:search")
    return f"{base}?{urlencode(query)}" if query else base


@register.inclusion_tag("listings/partials/card.html", takes_context=True)
def listing_card(context, listing, show_status=False):
    """One listing as a card; the favourite heart when the user is logged in."""
    favourite_ids = context.get("favourite_ids") or set()
    return {
        "listing": listing,
        "show_status": show_status,
        "is_favourite": listing.pk in favourite_ids,
        "request": context.get("request"),
    }


@register.filter
def cover(listing):
    """The listing's first photo (from prefetched `images`), or None."""
    images = list(listing.images.all())
    return images[0] if images else None


@register.filter
def owner_actions(listing):
    """What the owner may do with the listing now ("archive", "renew", ...):
    the pages show only these buttons, the services allow only these moves.
    Nothing for no listing (the post form)."""
    return listing_owner_actions(listing) if listing else frozenset()


@register.inclusion_tag("listings/partials/seller_listings.html", takes_context=True)
def seller_listings(context, seller, limit=24):
    """A seller's active listings, for the public profile page."""
    from listings import selectors
    from listings.models import ListingStatus

    listings = list(
        selectors.listing_list_for_owner(user=seller, status=ListingStatus.ACTIVE)[
            :limit
        ]
    )
    return {"seller": seller, "listings": listings, "request": context.get("request")}


@register.filter
def elided_pages(page):
    """Page numbers around the current one, with ellipses for the rest."""
    return list(
        page.paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1)
    )


@register.simple_tag(takes_context=True)
def hidden_query_inputs(context, exclude=""):
    """Hidden inputs that carry the current query, minus `exclude` (a,b,c)."""
    skip = {name.strip() for name in exclude.split(",") if name.strip()} | {"page"}
    request = context["request"]
    pairs = [
        (key, value)
        for key, values in request.GET.lists()
        if key not in skip
        for value in values
    ]
    return format_html_join("", '<input type="hidden" name="{}" value="{}">', pairs)
