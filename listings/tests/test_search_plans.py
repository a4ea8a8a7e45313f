"""PostGIS: the search's queries use their indexes (EXPLAIN), on a table big
enough for the planner to care. The plain plans are asserted where the planner
must choose the index by itself (KNN, radius, the default feed); for the GIN
indexes, sequential scans are switched off to prove that the query's
expression matches the index's (what breaks when the two drift apart)."""

import pytest
from django.db import connection

from accounts.tests.factories import UserFactory
from listings.search import listing_search, parse_search_params

pytestmark = [pytest.mark.services, pytest.mark.django_db]

ROWS = 20_000


@pytest.fixture
def many_listings(tree):
    owner = UserFactory()
    with connection.cursor() as cursor:
        # Random points over Kazakhstan; one in ten is a car, one in 2 000 a
        # rare diesel Kia called zanzibar; one in 1 000 is in Taraz.
        cursor.execute(
            """
            INSERT INTO listings_listing (
                owner_id, category_id, title, description, price, currency,
                is_negotiable, condition, city, location, attributes, status,
                rejection_reason, created_at, updated_at, published_at,
                expires_at, bumped_at, view_count, favourite_count, is_promoted
            )
            SELECT %(owner)s,
                   CASE WHEN i %% 10 = 0 THEN %(cars)s ELSE %(books)s END,
                   CASE WHEN i %% 2000 = 0 THEN 'zanzibar ' ELSE 'book ' END || i,
                   repeat('Well looked after, works as it should. ', 8),
                   (random() * 1e8)::bigint, 'KZT', false, 'used',
                   CASE WHEN i %% 1000 = 0 THEN 'Taraz'
                        WHEN i %% 3 = 0 THEN 'Almaty' ELSE 'Astana' END,
                   ST_SetSRID(ST_MakePoint(50 + random() * 37,
                                           40.5 + random() * 15), 4326)::geography,
                   CASE WHEN i %% 2000 = 0
                        THEN '{"make": "Kia", "year": 2015, "fuel": "diesel"}'
                        WHEN i %% 10 = 0
                        THEN '{"make": "Lada", "year": 2010, "fuel": "petrol"}'
                        ELSE '{}' END::jsonb,
                   'active', '', now(), now(), now(), now() + interval '30 days',
                   now() - (i || ' seconds')::interval, 0, 0, i %% 500 = 0
            FROM generate_series(1, %(rows)s) AS i
            """,
            {
                "owner": owner.pk,
                "cars": tree["cars"].pk,
                "books": tree["books"].pk,
                "rows": ROWS,
            },
        )
        cursor.execute("ANALYZE listings_listing")
        cursor.execute("ANALYZE listings_category")


def plan(*, seqscan=True, **query) -> str:
    params = parse_search_params({k: str(v) for k, v in query.items()})
    with connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL enable_seqscan = {'on' if seqscan else 'off'}")
    try:
        return listing_search(params)[:20].explain()
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = on")


def gist_index_name() -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename = 'listings_listing' "
            "AND indexdef ILIKE '%%gist%%location%%'"
        )
        return cursor.fetchone()[0]


def test_default_feed_is_one_backward_index_scan(many_listings):
    explained = plan()
    assert "Index Scan Backward using listing_feed_idx" in explained
    assert "Sort" not in explained


def test_distance_ordering_is_a_knn_index_scan(many_listings):
    explained = plan(lat=43.25, lng=76.92, radius_km=300, ordering="distance")
    assert f"Index Scan using {gist_index_name()}" in explained
    assert "Order By: (location <->" in explained
    assert "Sort" not in explained


def test_radius_uses_the_gist_index(many_listings):
    explained = plan(lat=43.25, lng=76.92, radius_km=10, ordering="newest")
    assert gist_index_name() in explained
    assert "st_dwithin" in explained.lower()


def test_free_text_matches_the_gin_index(many_listings):
    assert "listing_search_vector_gin" in plan(q="zanzibar")
    assert "listing_search_vector_gin" in plan(q="zanzi", seqscan=False)


def test_attribute_choice_is_a_containment_the_gin_index_serves(many_listings):
    # the search filters a choice with jsonb containment (@>) ...
    explained = plan(category="cars", attr_fuel="diesel")
    assert """attributes @> '{"fuel": "diesel"}'""" in explained
    # ... which the GIN index answers (the planner may still prefer the
    # category index when the category alone is selective enough)
    from listings.models import Listing

    direct = Listing.objects.filter(attributes__contains={"fuel": "diesel"})
    assert "listing_attributes_gin" in direct.explain()


def test_rare_city_uses_its_index(many_listings):
    explained = plan(city="taraz")
    assert "listing_city_upper_idx" in explained
    assert "upper((city)::text) = 'TARAZ'" in explained


def test_knn_results_are_nearest_first_and_inside_the_radius(many_listings):
    params = parse_search_params(
        {"lat": "43.25", "lng": "76.92", "radius_km": "400", "ordering": "distance"}
    )
    found = list(listing_search(params)[:50])
    distances = [x.distance_m for x in found]
    assert len(found) == 50
    assert distances == sorted(distances)
    assert distances[-1] <= 400_000
