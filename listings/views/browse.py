"""Public pages: home, search (list and map), category, listing detail."""

import logging
from urllib.parse import urlencode

from django.http import Http404
from django.shortcuts import render
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

from core.errors import Busy, NotFound
from core.errors import ValidationError as DomainValidationError
from core.paginator import ProbePaginator, probe_reach
from listings import selectors, services
from listings.cities import CITIES
from listings.forms import ATTRIBUTE_PREFIX, ListingForm
from listings.models import AttributeType, Condition, ListingStatus, approximate
from listings.pricing import price_display
from listings.search import (
    SearchParams,
    listing_search,
    parse_search_params,
    search_page_rows,
)
from listings.views.personal import save_search_form
from listings.visitors import visitor_key_for_request

logger = logging.getLogger(__name__)

PAGE_SIZE = 24
MAP_PAGE_SIZE = 100
ORDERINGS = [
    ("newest", "Newest first"),
    ("relevance", "Best match"),
    ("price_asc", "Cheapest first"),
    ("price_desc", "Most expensive first"),
    ("distance", "Nearest first"),
]
POSTED_WITHIN = [
    ("", "Any time"),
    ("1", "Last 24 hours"),
    ("7", "Last 7 days"),
    ("30", "Last 30 days"),
]
RANGE_TYPES = (AttributeType.NUMBER, AttributeType.YEAR)
RADIUS_CHOICES = ["1", "2", "5", "10", "25", "50", "100", "250"]
# The circle drawn around a rounded point (listings.models.approximate).
APPROXIMATE_RADIUS_M = 800


def approximate_point(point) -> tuple[float, float] | None:
    """(lat, lng) of a point rounded to about the neighbourhood."""
    if point is None:
        return None
    return (approximate(point.y), approximate(point.x))


def favourite_ids_for(request, listings) -> set[int]:
    if not request.user.is_authenticated or not listings:
        return set()
    return set(
        selectors.favourite_listing_ids(
            user=request.user, listing_ids=[listing.pk for listing in listings]
        )
    )


def map_markers(listings) -> list[dict]:
    """Marker data for the map view: rounded coordinates, title, price, link."""
    from listings.templatetags.listings_tags import cover

    markers = []
    for listing in listings:
        approx = approximate_point(listing.location)
        if approx is None:
            continue
        image = cover(listing)
        markers.append(
            {
                "id": listing.pk,
                "lat": approx[0],
                "lng": approx[1],
                "title": listing.title,
                "price": price_display(listing.price, listing.currency),
                "url": listing.get_absolute_url(),
                "thumb": image.thumbnail.url if image else "",
                "city": listing.city,
            }
        )
    return markers


@require_GET
def home(request):
    categories = selectors.category_tree()
    featured = list(selectors.listing_featured_list(limit=8))
    newest = list(selectors.listing_newest_list(limit=12))
    return render(
        request,
        "listings/home.html",
        {
            "categories": categories,
            "featured": featured,
            "newest": newest,
            "favourite_ids": favourite_ids_for(request, featured + newest),
        },
    )


def attribute_filters(attributes, data) -> list[dict]:
    """The category's filterable attributes with the values the user chose."""
    filters = []
    for attribute in attributes:
        if not attribute.is_filterable:
            continue
        key = ATTRIBUTE_PREFIX + attribute.name
        choices = [
            (str(c[0]), str(c[-1])) if isinstance(c, list | tuple) else (str(c), str(c))
            for c in attribute.choices or []
        ]
        filters.append(
            {
                "attribute": attribute,
                "key": key,
                "is_range": attribute.type in RANGE_TYPES,
                "is_choice": attribute.type == AttributeType.CHOICE,
                "is_boolean": attribute.type == AttributeType.BOOLEAN,
                "choices": choices,
                "value": data.get(key, ""),
                "min": data.get(f"{key}_min", ""),
                "max": data.get(f"{key}_max", ""),
            }
        )
    return filters


def category_options(flat_tree) -> list[tuple[str, str]]:
    """(slug, indented name) for the category select of the filters."""
    return [(node.slug, "\u2003" * node.depth + node.name) for node in flat_tree]


def save_search_name(params, category) -> str:
    if params.q and category:
        return f"{params.q} in {category.name}"
    if params.q:
        return params.q
    return category.name if category else "All listings"


def _results_page(request, data, *, category=None):
    """Parse the query, run the search, paginate; the context of a results page."""
    view_mode = "map" if data.get("view") == "map" else "list"
    previous = data.get("prev_category")
    if previous is not None and previous != (data.get("category") or ""):
        # The category changed in the sidebar: the old category's attribute
        # filters do not apply to the new one, so they are dropped, not refused.
        data = data.copy()
        for key in [k for k in data if k.startswith(ATTRIBUTE_PREFIX)]:
            del data[key]
    error = None
    try:
        params = parse_search_params(data)
    except DomainValidationError as exc:
        error = exc
        params = SearchParams(category=category.slug if category else None)
    if category is None and params.category:
        try:
            category = selectors.category_get(slug=params.category)
        except NotFound:
            category = None
    page_size = MAP_PAGE_SIZE if view_mode == "map" else PAGE_SIZE
    if error is None:
        user = request.user if request.user.is_authenticated else None
        reach = probe_reach(data.get("page"), page_size)
        results = listing_search(params, user=user, reach=reach)
    else:
        results = []
    paginator = ProbePaginator(results, page_size, fetch=search_page_rows)
    try:
        page = paginator.get_page(data.get("page"))
    except Busy as exc:  # the search outlasted its time limit: 503, say so
        error = exc
        page = ProbePaginator([], page_size).page(1)
    listings = list(page.object_list)
    flat_tree = selectors.category_tree_flat()
    node = next((n for n in flat_tree if category and n.id == category.pk), None)
    query = params.to_query_dict() if error is None else {}
    return {
        "params": params,
        "error": error,
        "category": category,
        "category_ancestors": (
            selectors.category_ancestors(category) if category else []
        ),
        "subcategories": node.children if node else [],
        "page": page,
        "listings": listings,
        "favourite_ids": favourite_ids_for(request, listings),
        "view_mode": view_mode,
        "markers": map_markers(listings) if view_mode == "map" else [],
        "attribute_filters": attribute_filters(
            selectors.category_attributes_for(category) if category else [], data
        ),
        "category_options": category_options(flat_tree),
        "orderings": ORDERINGS,
        "conditions": Condition.choices,
        "posted_within_choices": POSTED_WITHIN,
        "radius_choices": RADIUS_CHOICES,
        "cities": list(CITIES),
        "query": data,
        "has_point": params.has_point,
        "save_search_form": save_search_form(
            request,
            initial={
                "name": save_search_name(params, category)[:120],
                "query": urlencode(query),
            },
        ),
    }


@require_GET
def search(request):
    context = _results_page(request, request.GET)
    status = context["error"].status_code if context["error"] else 200
    return render(request, "listings/search.html", context, status=status)


@require_GET
def category(request, slug):
    try:
        current = selectors.category_get(slug=slug)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    data = request.GET.copy()
    data["category"] = current.slug
    context = _results_page(request, data, category=current)
    context["is_category_page"] = True
    status = context["error"].status_code if context["error"] else 200
    return render(request, "listings/search.html", context, status=status)


@require_GET
# Every visit is counted: no shared cache may answer in Django's place.
@cache_control(private=True, no_cache=True)
def detail(request, pk):
    try:
        # Active and sold listings to everyone; drafts and the rest to the owner.
        listing = selectors.access_listing(request.user, pk)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    is_owner = request.user.is_authenticated and listing.owner_id == request.user.pk
    if listing.status == ListingStatus.ACTIVE and not is_owner:
        try:
            services.listing_view_record(
                listing=listing, visitor_key=visitor_key_for_request(request)
            )
        except Exception:
            # Counting a view must never cost the buyer the page.
            logger.exception("Could not record a view of listing %s", listing.pk)
    values = listing.attributes or {}
    attributes = [
        {"label": a.label, "unit": a.unit, "type": a.type, "value": values[a.name]}
        for a in selectors.category_attributes_for(listing.category)
        if values.get(a.name) not in (None, "")
    ]
    similar = list(selectors.listing_similar(listing, limit=8))
    others = list(selectors.listing_other_by_owner(listing, limit=6))
    favourite_ids = favourite_ids_for(request, [listing, *similar, *others])
    return render(
        request,
        "listings/detail.html",
        {
            "listing": listing,
            "category_path": [
                *selectors.category_ancestors(listing.category),
                listing.category,
            ],
            "images": list(listing.images.all()),
            "attributes": attributes,
            "approx": approximate_point(listing.location),
            "approx_radius_m": APPROXIMATE_RADIUS_M,
            "similar": similar,
            "others": others,
            "is_owner": is_owner,
            "is_favourite": listing.pk in favourite_ids,
            "favourite_ids": favourite_ids,
        },
    )


@require_GET
def attribute_fields(request):
    """The attribute block of the listing form for ?category=<pk> (a fragment)."""
    form = ListingForm(initial={"category": request.GET.get("category")})
    return render(request, "listings/partials/attribute_fields.html", {"form": form})
