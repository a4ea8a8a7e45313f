"""EXPLAIN checks of the listings search on PostGIS (bench/FINDINGS.md), beside
listings/tests/test_search_plans.py (feed, KNN, radius, GIN, city):

- the nearby query's radius must not be a filter of the KNN scan (`<-> <= r`):
  where fewer than a page of listings are in range, such a scan reads the
  whole GiST index (29 s at 1M in the benchmark);
- text + category + price must still reach the GIN index (the category as a
  subquery once made the planner drop it);
- the app's connections keep the JIT off and bind parameters on the client.

Twenty thousand rows with a rare word and `enable_seqscan = off` (and, for
GIN, `enable_indexscan = off`) for the statement make the planner's choice the
same as on a large table: what is asserted is that the index CAN serve the
query as the ORM writes it.
"""

import pytest
from django.db import connection, transaction

from accounts.tests.factories import UserFactory
from listings.models import Listing
from listings.search import listing_search, parse_search_params
from listings.tests.factories import CategoryFactory

pytestmark = [pytest.mark.services, pytest.mark.django_db]

ALMATY = (43.2567, 76.9286)  # lat, lng


@pytest.fixture
def many_listings(db):
    """20,000 active listings around Almaty; three of them mention a sofa.
    (Written with one INSERT ... SELECT: factories would take minutes.)"""
    owner = UserFactory()
    category = CategoryFactory(slug="furniture")
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO listings_listing (
                owner_id, category_id, title, description, price, currency,
                is_negotiable, condition, city, location, attributes, status,
                rejection_reason, created_at, updated_at, published_at, bumped_at,
                view_count, favourite_count, is_promoted)
            SELECT %(owner)s, %(category)s,
                   CASE WHEN i %% 7000 = 0 THEN 'Corner sofa'
                        ELSE 'Oak table ' || i END,
                   'Solid, clean, can deliver.', 100000 + i, 'KZT', false, 'used',
                   'Almaty',
                   ST_SetSRID(ST_MakePoint(%(lng)s + (i / 150 - 66) * 0.001,
                                           %(lat)s + (i %% 150 - 75) * 0.001),
                              4326)::geography,
                   '{}', 'active', '', now(), now(), now(), now(), 0, 0, false
            FROM generate_series(0, 19999) AS i
            """,
            {
                "owner": owner.pk,
                "category": category.pk,
                "lat": ALMATY[0],
                "lng": ALMATY[1],
            },
        )
        cursor.execute("ANALYZE listings_listing")
    return Listing.objects.filter(owner=owner)


def index_name(method: str, column: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename = 'listings_listing' "
            "AND indexdef LIKE %s",
            [f"% USING {method} ({column}%"],
        )
        names = [row[0] for row in cursor.fetchall()]
    assert len(names) == 1, names
    return names[0]


def explain(queryset, *, bitmap_only: bool = False) -> str:
    """The plan with sequential scans off (and, for `bitmap_only`, plain index
    scans too: a GIN index is only ever read through a bitmap, and on a small
    table a full scan of some b-tree would otherwise look as cheap)."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        if bitmap_only:
            cursor.execute("SET LOCAL enable_indexscan = off")
        return queryset.explain()


def search(**data):
    return listing_search(parse_search_params({k: str(v) for k, v in data.items()}))


def knn_node(plan: str) -> list[str]:
    """The lines of the plan node that scans the GiST index in distance order
    (empty when there is none)."""
    lines = plan.splitlines()
    starts = [
        j for j, line in enumerate(lines) if j == 0 or line.lstrip().startswith("->")
    ]
    for i, line in enumerate(lines):
        if "Order By: (location <->" in line:
            start = max(j for j in starts if j <= i)
            end = next((j for j in starts if j > i), len(lines))
            return lines[start:end]
    return []


def test_nearby_radius_is_not_a_filter_on_the_knn_scan(many_listings):
    # Given listings around Almaty
    # When the 20 nearest within 10 km are asked for
    queryset = search(lat=ALMATY[0], lng=ALMATY[1], radius_km=10, ordering="distance")[
        :20
    ]
    plan = explain(queryset)
    node = knn_node(plan)
    # Then the GiST index on location yields the rows in distance order
    assert node, plan
    assert f"Index Scan using {index_name('gist', 'location')}" in node[0], plan
    # and the radius is not a filter of that scan: `<-> <= r` there makes it
    # read the whole index where fewer than a page of listings are in range
    filters = [line for line in node if "Filter:" in line]
    assert not any("<->" in line and "<=" in line for line in filters), plan


def test_text_category_and_price_query_uses_the_gin_index(many_listings):
    # Given 20,000 furniture listings, three of them sofas
    # When searching for a sofa in the category within a price range
    queryset = search(q="sofa", category="furniture", price_min=0, price_max=5000)
    plan = explain(queryset[:20], bitmap_only=True)
    # Then the GIN index on the search vector is one of the indexes used
    assert f"Bitmap Index Scan on {index_name('gin', 'search_vector')}" in plan, plan
    assert len(list(queryset)) == 3


def test_database_connection_keeps_jit_off_and_client_side_binding():
    # Given the app's database connection (PostGIS's high function costs make
    # the JIT compile sub-millisecond queries for tens of milliseconds)
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        jit = cursor.fetchone()[0]
    # Then the JIT is off and parameters are bound on the client (reused
    # server-side plans made one 1M-row search 100x slower)
    assert jit == "off"
    assert not connection.settings_dict["OPTIONS"].get("server_side_binding")
