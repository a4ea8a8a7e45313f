"""PostGIS: the search's queries use their indexes (EXPLAIN), on a table big
enough for the planner to care. The plain plans are asserted where the planner
must choose the index by itself (KNN, radius, the default feed); for the GIN
indexes, sequential scans are switched off to prove that the query's
expression matches the index's (what breaks when the two drift apart)."""

import time

import pytest
from django.db import connection

from accounts.tests.factories import UserFactory
from listings.search import NEARBY_WINDOW, listing_search, parse_search_params
from listings.tests.factories import bulk_insert_listings

pytestmark = [pytest.mark.services, pytest.mark.django_db]

ROWS = 20_000


@pytest.fixture
def many_listings(tree):
    owner = UserFactory()
    # Random points over Kazakhstan; one in ten is a car, one in 2 000 a
    # rare diesel Kia called zanzibar; one in 1 000 is in Taraz.
    bulk_insert_listings(
        """
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
    with connection.cursor() as cursor:
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
    # The KNN scan is limited to the window; the radius is not a filter of it
    # (that made the scan read the whole index where few listings are in
    # range). Only the window's rows are sorted again, after the radius.
    assert "Limit  (cost" in explained
    knn_scan = explained.split(f"Index Scan using {gist_index_name()}")[1]
    knn_scan = knn_scan.split("->  ")[0]  # up to the next plan node
    assert "<=" not in knn_scan, explained


def test_radius_uses_the_gist_index(many_listings):
    explained = plan(lat=43.25, lng=76.92, radius_km=10, ordering="newest")
    assert gist_index_name() in explained
    assert "st_dwithin" in explained.lower()


def test_free_text_matches_the_gin_index(many_listings):
    assert "listing_search_vector_gin" in plan(q="zanzibar", ordering="relevance")
    assert "listing_search_vector_gin" in plan(
        q="zanzi", ordering="relevance", seqscan=False
    )


def test_newest_first_text_search_is_a_walk_of_the_feed_index(many_listings):
    # Stops after a page of matches when matches are common ...
    explained = plan(q="book")
    assert "Index Scan Backward using listing_feed_idx" in explained
    assert "Sort" not in explained


def test_a_page_that_outlasts_its_first_plan_is_read_again_by_bitmap(
    many_listings, monkeypatch, settings
):
    # ... but a word that matches nothing walks the whole index (seconds at
    # 1M): after FIRST_PLAN_TIMEOUT_MS the page is read with index scans off.
    # (Without the RUM walk, which finds no match at once: test_search_pages.)
    from django.test.utils import CaptureQueriesContext

    from listings import search_pages as search

    settings.LISTINGS_SEARCH_RUM = False
    params = parse_search_params({"q": "nosuchword"})
    monkeypatch.setattr(search, "FIRST_PLAN_TIMEOUT_MS", 1)
    with CaptureQueriesContext(connection) as queries:
        assert search.search_page_rows(listing_search(params), 0, 21) == []
    sql = [q["sql"] for q in queries]
    assert any("enable_indexscan = off" in q for q in sql), sql
    # Rows found either way are the same, in the same order.
    zanzibar = listing_search(parse_search_params({"q": "zanzibar"}))
    expected = [x.pk for x in zanzibar[:21]]
    assert [x.pk for x in search.search_page_rows(zanzibar, 0, 21)] == expected
    # The settings are back to normal afterwards, in the same transaction.
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        assert cursor.fetchone()[0] == "0"
        cursor.execute("SHOW enable_indexscan")
        assert cursor.fetchone()[0] == "on"


def test_a_search_slower_than_the_limit_is_busy_not_a_held_worker(monkeypatch):
    from django.db.models.expressions import RawSQL

    from core.errors import Busy
    from listings import search_pages as search
    from listings.models import Listing
    from listings.tests.factories import ListingFactory

    ListingFactory()
    monkeypatch.setattr(search, "FIRST_PLAN_TIMEOUT_MS", 10)
    monkeypatch.setattr(search, "SEARCH_TIMEOUT_MS", 20)
    slow = Listing.objects.annotate(_slow=RawSQL("pg_sleep(0.2)", []))
    with pytest.raises(Busy):
        search.search_page_rows(slow, 0, 21)
    assert Listing.objects.count() == 1  # the connection is still usable


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
    # Nearest first shows at most the NEARBY_WINDOW nearest (docs/listings.md).
    assert listing_search(params).count() == NEARBY_WINDOW


# --- Time limits outside a transaction (a request) -------------------------------


def _settings_seen(**settings) -> tuple:
    """What a statement run under `settings` sees, and how many statements
    the app handed to the database for it."""
    from listings import search_pages

    executed = []

    def count(execute, sql, params, many, context):
        executed.append(sql)
        return execute(sql, params, many, context)

    def fetch():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT current_setting('statement_timeout'), "
                "current_setting('enable_bitmapscan'), %s",
                ["row"],
            )
            return cursor.fetchall()

    with connection.execute_wrapper(count):
        rows = search_pages._with_local_settings(fetch, **settings)
    return rows, executed


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_the_settings_travel_with_each_statement():
    assert not connection.in_atomic_block
    rows, executed = _settings_seen(statement_timeout=123, enable_bitmapscan="off")
    assert rows == [("123ms", "off", "row")]
    # One statement, one message: no BEGIN, SET LOCAL, COMMIT around it.
    assert len(executed) == 1
    assert connection.get_autocommit()
    # Nothing outlives it.
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        assert cursor.fetchone()[0] == "0"
        cursor.execute("SHOW enable_bitmapscan")
        assert cursor.fetchone()[0] == "on"


def test_inside_a_transaction_the_settings_are_set_and_reset():
    assert connection.in_atomic_block
    rows, executed = _settings_seen(statement_timeout=123, enable_bitmapscan="off")
    assert rows == [("123ms", "off", "row")]
    # In a savepoint of its own: SAVEPOINT, SET LOCAL, the read, the reset,
    # RELEASE.
    assert [q.split()[0] for q in executed] == [
        "SAVEPOINT",
        "SET",
        "SELECT",
        "SET",
        "RELEASE",
    ]
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        assert cursor.fetchone()[0] == "0"


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_a_slow_search_is_cut_short_then_busy(monkeypatch):
    from django.db.models.expressions import RawSQL

    from core.errors import Busy
    from listings import search_pages
    from listings.models import Listing
    from listings.tests.factories import ListingFactory

    ListingFactory()
    monkeypatch.setattr(search_pages, "FIRST_PLAN_TIMEOUT_MS", 10)
    monkeypatch.setattr(search_pages, "SEARCH_TIMEOUT_MS", 20)
    slow = Listing.objects.annotate(_slow=RawSQL("pg_sleep(0.2)", []))
    started = time.monotonic()
    with pytest.raises(Busy):
        search_pages.search_page_rows(slow, 0, 21)
    # Cancelled after 10 ms, then 20 ms: not after two sleeps of 200 ms.
    assert time.monotonic() - started < 0.3
    assert Listing.objects.count() == 1  # the connection is still usable
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        assert cursor.fetchone()[0] == "0"
