"""Proposed changes to the listings read path, as runnable copies.

The benchmark runs these next to the current code (same requests, same
database) so bench/FINDINGS.md can give measured before/after figures for
each proposal. Nothing here is imported by the app: the listings helper
applies the changes in `listings/` (see FINDINGS.md for where).

Each function returns the ids of the first page, in order, running the
queries the changed code would run (ids first, then the cards of those ids),
so the caller can time them and compare the ids with the API's.
"""

from __future__ import annotations

from django.db.models import BooleanField, Case, Value, When

from listings.models import Category, Listing
from listings.search import (
    SearchParams,
    _apply_text,
    _knn_distance,
    promoted_q,
    search_terms,
)
from listings.selectors import category_descendant_ids, listing_card_queryset

PAGE = 20


def _cards(ids: list[int]) -> list[int]:
    """The second step: the cards of one page (owner, category, photos)."""
    by_pk = listing_card_queryset().in_bulk(ids)
    return [pk for pk in ids if pk in by_pk]


def detail(pk: int) -> list[int]:
    # One access check instead of two (retrieve already holds the listing).
    listing = listing_card_queryset().filter(pk=pk).order_by().first()
    list(listing.images.all())
    return [listing.pk]


def newest(params: SearchParams) -> list[int]:
    # Promoted first without a sort of every active row: two scans of the
    # (status, -bumped_at, -id) index, each stopping after a page.
    base = Listing.objects.active().order_by("-bumped_at", "-pk")
    promoted = list(base.filter(promoted_q()).values_list("pk", flat=True)[:PAGE])
    rest = list(base.exclude(promoted_q()).values_list("pk", flat=True)[:PAGE])
    return _cards((promoted + rest)[:PAGE])


def nearby(params: SearchParams) -> list[int]:
    # Pure KNN (ORDER BY <-> only, no pk tie-break, no radius in the WHERE),
    # then the radius check on the page: the GiST scan reads a page of rows
    # whatever the density around the point.
    point = params.point
    rows = list(
        Listing.objects.active()
        .alias(_knn=_knn_distance(point))
        .annotate(knn=_knn_distance(point))
        .order_by("_knn")
        .values_list("pk", "knn")[:PAGE]
    )
    radius_m = params.radius_km * 1000
    return _cards([pk for pk, distance in rows if distance <= radius_m])


def search(params: SearchParams) -> list[int]:
    # Category ids as a list (not a subquery the planner cannot estimate),
    # and a narrow sort (id, promoted, rank, bumped_at) before the cards.
    category = Category.objects.get(slug=params.category)
    qs = Listing.objects.active().filter(
        category_id__in=category_descendant_ids(category)
    )
    qs = _apply_text(qs, search_terms(params.q))
    if params.price_min is not None:
        qs = qs.filter(price__gte=params.price_min)
    if params.price_max is not None:
        qs = qs.filter(price__lte=params.price_max)
    qs = qs.annotate(
        is_promoted=Case(
            When(promoted_q(), then=Value(True)),
            default=Value(False),
            output_field=BooleanField(),
        )
    ).order_by("-is_promoted", "-rank", "-bumped_at", "-pk")
    return _cards(list(qs.values_list("pk", flat=True)[:PAGE]))
