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

import os

from listings.models import Category, Listing
from listings.search import (
    KnnDistance,
    SearchParams,
    _apply_text,
    listing_search,
    search_terms,
    ts_query_text,
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
    # listings-core's stored `is_promoted` flag already makes the page one
    # index scan; what is left is the COUNT (FINDINGS.md, 2): the page's ids,
    # then its cards.
    ids = list(listing_search(params).values_list("pk", flat=True)[:PAGE])
    return _cards(ids)


# How far pagination may go in distance order (10 pages of 20; measured
# with 21, 200 and 1000: bench/FINDINGS.md section 3).
NEARBY_WINDOW = int(os.environ.get("BENCH_NEARBY_WINDOW", "200"))


def nearby(params: SearchParams) -> list[int]:
    # A pure KNN scan, `ORDER BY location <-> point LIMIT window`, then the
    # radius check on those rows only. No pk tie-break (no index gives that
    # order: every row in range gets sorted), and the radius neither as
    # `<-> <= r` (only a filter: where fewer than a page of listings are in
    # range the KNN scan reads the whole index) nor as ST_DWithin (the
    # planner underestimates how many rows it matches and picks a bitmap
    # scan of all of them plus a sort: 100-180 ms in central Almaty at 100k).
    point = params.point
    window = (
        Listing.objects.active()
        .alias(_knn=KnnDistance(point))
        .order_by("_knn")
        .values("pk")[:NEARBY_WINDOW]
    )
    qs = (
        Listing.objects.filter(pk__in=window)
        .alias(_knn=KnnDistance(point))
        .filter(_knn__lte=params.radius_km * 1000)
        .order_by("_knn")
    )
    return _cards(list(qs.values_list("pk", flat=True)[:PAGE]))


def search(params: SearchParams) -> list[int]:
    # Category ids as a list (not a subquery the planner cannot estimate),
    # and a narrow sort (id, promoted, rank, bumped_at) before the cards.
    category = Category.objects.get(slug=params.category)
    qs = Listing.objects.active().filter(
        category_id__in=category_descendant_ids(category)
    )
    qs = _apply_text(qs, {"tsquery": ts_query_text(search_terms(params.q))})
    if params.price_min is not None:
        qs = qs.filter(price__gte=params.price_min)
    if params.price_max is not None:
        qs = qs.filter(price__lte=params.price_max)
    if params.ordering == "newest":  # the default since the probe pages
        qs = qs.order_by("-is_promoted", "-bumped_at", "-pk")
    else:
        qs = qs.order_by("-is_promoted", "-rank", "-bumped_at", "-pk")
    return _cards(list(qs.values_list("pk", flat=True)[:PAGE]))
