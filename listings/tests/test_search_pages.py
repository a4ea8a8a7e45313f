"""PostGIS: pages of newest-first text searches read from the RUM indexes
(listings.search_pages) are the very rows, in the very order, of the plain
read, for every filter; and the walk falls back where it must. Needs the
`rum` extension (postgresql-15-rum; .ci/run installs it): without it the
walk's tests are skipped and only the plain read runs."""

import pytest
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.test.utils import CaptureQueriesContext

from accounts.tests.factories import UserFactory
from listings import search, search_pages
from listings.search import (
    listing_search,
    parse_search_params,
    search_card_rows,
    search_page_rows,
    search_plan,
)
from listings.selectors import listing_card_values
from listings.tests.factories import bulk_insert_listings

pytestmark = [pytest.mark.services, pytest.mark.django_db]

ROWS = 3_000
PAGE = 20


@pytest.fixture
def rum(db):
    search_pages._RUM_PRESENT.clear()
    search_pages._STATS.clear()
    if not search_pages.rum_walk_available():
        pytest.skip("the rum extension is not installed (postgresql-15-rum)")
    yield
    search_pages._RUM_PRESENT.clear()
    search_pages._STATS.clear()


@pytest.fixture
def rows(tree):
    """ROWS listings in cars, books, phones and laptops: titles of two words
    ("bike red", "sofa blue", ...), one in 500 "zanzibar"; one in 11
    promoted, one in 13 sold; bumped in groups of 60 at the very same
    instant (ties cross page boundaries); photos on one in 5; one active
    listing without bumped_at (never made by the services; the order puts
    it first all the same)."""
    owner = UserFactory()
    bulk_insert_listings(
        """
        SELECT %(owner)s,
               (ARRAY[%(cars)s, %(books)s, %(phones)s, %(laptops)s])[i %% 4 + 1],
               (ARRAY['bike', 'sofa', 'phone', 'lamp', 'bicycle'])[i %% 5 + 1]
                 || ' ' || (ARRAY['red', 'blue', 'green'])[i %% 3 + 1]
                 || CASE WHEN i %% 500 = 0 THEN ' zanzibar' ELSE '' END,
               'Well looked after, works as it should.',
               (i * 7919 %% 100000) * 100, 'KZT', false,
               CASE WHEN i %% 2 = 0 THEN 'new' ELSE 'used' END,
               CASE WHEN i %% 3 = 0 THEN 'Astana' ELSE 'Almaty' END,
               ST_SetSRID(ST_MakePoint(50 + (i %% 37), 41 + (i %% 14)), 4326)
                 ::geography,
               CASE WHEN i %% 4 = 0 AND i %% 8 = 0 THEN '{"fuel": "diesel"}'
                    WHEN i %% 4 = 0 THEN '{"fuel": "petrol"}'
                    ELSE '{}' END::jsonb,
               CASE WHEN i %% 13 = 0 THEN 'sold' ELSE 'active' END,
               '', now(), now(), b, now() + interval '30 days', b, 0, 0,
               i %% 11 = 0
        FROM generate_series(1, %(rows)s) AS i,
             LATERAL (SELECT date_trunc('second', now())
                             - (i / 60) * interval '1 second' AS b) t
        """,
        {
            "owner": owner.pk,
            "cars": tree["cars"].pk,
            "books": tree["books"].pk,
            "phones": tree["phones"].pk,
            "laptops": tree["laptops"].pk,
            "rows": ROWS,
        },
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE listings_listing SET bumped_at = NULL "
            "WHERE id = (SELECT min(id) + 59 FROM listings_listing)"  # a bike
        )
        cursor.execute(
            """
            INSERT INTO listings_listingimage
                (listing_id, image, thumbnail, width, height, position, created_at)
            SELECT id, 'a.jpg', 'a-t.jpg', 10, 10, 0, now()
              FROM listings_listing WHERE id % 5 = 0
            """
        )
        # New row versions at the end of the table: the index's order of
        # rows bumped at the same instant is no longer the order of their ids.
        cursor.execute("UPDATE listings_listing SET view_count = 1 WHERE id % 2 = 0")
        cursor.execute("ANALYZE listings_listing")


def page_ids(query: dict, page: int, *, rum: bool, settings) -> tuple[list, list]:
    """The pks of page `page` and the SQL run to read it."""
    settings.LISTINGS_SEARCH_RUM = rum
    search_pages._RUM_PRESENT.clear()
    params = parse_search_params(query)
    start, stop = (page - 1) * PAGE, page * PAGE + 1
    with CaptureQueriesContext(connection) as captured:
        found = search_page_rows(listing_search(params, reach=stop), start, stop)
    return [x.pk for x in found], [q["sql"] for q in captured]


def walked(sql: list) -> bool:
    return any("<=|" in q for q in sql)


QUERIES = [
    {"q": "bike"},
    {"q": "bike red"},
    {"q": "bi"},  # a prefix: bike and bicycle
    {"q": "sofa", "category": "books"},
    {"q": "phone", "category": "electronics", "price_min": "10", "price_max": "600"},
    {"q": "lamp", "condition": "new", "city": "astana"},
    {"q": "bike", "has_photos": "true"},
    {"q": "sofa", "posted_within_days": "1"},
    {"q": "bicycle", "lat": "45", "lng": "60", "radius_km": "400"},
    {"q": "bike", "category": "cars", "attr_fuel": "diesel"},
    {"q": "zanzibar"},
    {"q": "nosuchword"},
    {"q": "sofa", "category": "cars", "price_max": "10"},
]


@pytest.mark.parametrize("query", QUERIES, ids=lambda q: "&".join(q.values()))
@pytest.mark.parametrize("page", [1, 6])
def test_the_walk_reads_the_api_card_rows_too(rum, rows, settings, query, page):
    # The API's list reads card rows (search_card_rows), not model instances.
    expected, _ = page_ids(query, page, rum=False, settings=settings)
    settings.LISTINGS_SEARCH_RUM = True
    search_pages._RUM_PRESENT.clear()
    start, stop = (page - 1) * PAGE, page * PAGE + 1
    params = parse_search_params(query)
    with CaptureQueriesContext(connection) as captured:
        cards = search_card_rows(listing_search(params, reach=stop), start, stop)
    assert [card["id"] for card in cards] == expected
    assert walked([q["sql"] for q in captured])


@pytest.mark.parametrize(
    "query",
    [
        *QUERIES,
        {"lat": "45", "lng": "60", "radius_km": "400", "ordering": "distance"},
        {"lat": "45", "lng": "60", "q": "bike", "ordering": "distance"},
        {"category": "electronics", "ordering": "price_asc"},
        {"q": "bike", "ordering": "relevance", "city": "astana"},
    ],
    ids=lambda q: "&".join(q.values()),
)
@pytest.mark.parametrize("page", [1, 6])
def test_the_api_reads_pages_from_statements_compiled_once(
    rum, rows, settings, query, page
):
    settings.LISTINGS_SEARCH_RUM = True
    search_pages._RUM_PRESENT.clear()
    params = parse_search_params(query)
    start, stop = (page - 1) * PAGE, page * PAGE + 1
    expected = search_page_rows(
        listing_card_values(listing_search(params, reach=stop)), start, stop
    )
    plan = search_plan(params, reach=stop)
    for _ in range(2):  # compiled, then reused
        with CaptureQueriesContext(connection) as captured:
            cards = search_card_rows(plan, start, stop)
        if query.get("ordering") == "distance":
            # Nearest first has no tie-breaker (no index gives one): listings
            # at the same distance (the rows share points) come in any order,
            # and the API's keys-first read orders them otherwise than the
            # pages' statement. The same distances, and the same cards.
            assert [c["distance_m"] for c in cards] == [
                c["distance_m"] for c in expected
            ]
            by_id = {c["id"]: c for c in expected}
            assert all(by_id[c["id"]] == c for c in cards if c["id"] in by_id)
        else:
            assert cards == expected
        # The markers never reach the database.
        assert not any("Mk" in q["sql"] or "-461168" in q["sql"] for q in captured)
    cached = search._CARD_STATEMENTS.cache_for(connections[DEFAULT_DB_ALIAS])
    statements = [v for (shape, *_), v in cached.items() if shape[0] == plan.shape]
    if "attr_fuel" in query:  # JSON values: the ORM's way
        assert not plan.compilable and not statements
    else:
        # Every statement of the page compiled, none left to the ORM.
        assert statements and False not in statements


@pytest.mark.parametrize("query", QUERIES, ids=lambda q: "&".join(q.values()))
@pytest.mark.parametrize("page", [1, 6])
def test_the_walk_reads_the_same_page_as_the_plain_read(
    rum, rows, settings, query, page
):
    expected, plain_sql = page_ids(query, page, rum=False, settings=settings)
    found, rum_sql = page_ids(query, page, rum=True, settings=settings)
    assert found == expected
    assert walked(rum_sql) and not walked(plain_sql)


def test_pages_follow_on_across_promoted_listings_ties_and_the_undated(
    rum, rows, settings
):
    # Every page of "bike" in turn adds up to the whole result, in order:
    # promoted first, the listing without bumped_at first of its group,
    # listings bumped at the same instant by id.
    seen = []
    for page in range(1, 12):
        found, _ = page_ids({"q": "bike"}, page, rum=True, settings=settings)
        seen += found[:PAGE]
    plain = listing_search(parse_search_params({"q": "bike"}))
    expected = list(plain.values_list("pk", "is_promoted", "bumped_at")[:220])
    assert seen == [pk for pk, _, _ in expected]
    assert expected[0][1] and not expected[-1][1]
    assert any(bumped is None for _, _, bumped in expected)
    bumped = [b for _, _, b in expected if b is not None]
    assert len(bumped) > len(set(bumped))  # ties were there to order


def test_the_walk_is_an_ordered_scan_of_the_rum_index(rum, rows, settings):
    _, sql = page_ids({"q": "bike"}, 1, rum=True, settings=settings)
    walk = next(q for q in sql if "<=|" in q)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        cursor.execute("EXPLAIN " + walk)
        explained = "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute("SET LOCAL enable_bitmapscan = on")
    assert "Index Scan using listing_search_rum_promoted" in explained
    assert "Order By: (bumped_at <=|" in explained


def test_a_page_of_promoted_listings_walks_no_other_listing(rum, rows, settings):
    # one in 11 is promoted: the first page of "bike" is all promoted
    _, sql = page_ids({"q": "bike"}, 1, rum=True, settings=settings)
    walks = [q for q in sql if "<=|" in q]
    assert len(walks) == 1
    assert 'NOT "listings_listing"."is_promoted"' not in walks[0]
    # the fourth page is past them: then the other listings' index too
    _, sql = page_ids({"q": "bike"}, 4, rum=True, settings=settings)
    walks = [q for q in sql if "<=|" in q]
    assert len(walks) == 2
    assert 'NOT "listings_listing"."is_promoted"' in walks[1]


def test_words_too_common_for_a_walk_are_read_the_plain_way(
    rum, rows, settings, monkeypatch
):
    # "bi" is in 2 of 5 titles: 1,200 index entries to read
    assert 800 < search_pages.estimated_entries(["bi"]) < 1_800
    monkeypatch.setattr(search_pages, "RUM_WALK_MAX_MATCHES", 800)
    found, sql = page_ids({"q": "bi"}, 1, rum=True, settings=settings)
    assert not walked(sql)
    assert found == page_ids({"q": "bi"}, 1, rum=False, settings=settings)[0]
    # a rare word is still walked
    assert search_pages.estimated_entries(["zanzibar"]) < 100
    assert walked(page_ids({"q": "zanzibar"}, 1, rum=True, settings=settings)[1])


def test_estimates_add_up_the_words_as_the_walk_reads_them(rum, rows):
    bike = search_pages.estimated_entries(["bike"])
    red = search_pages.estimated_entries(["red"])
    assert 400 < bike < 900  # 600 titles
    assert 700 < red < 1_300  # 1,000 titles
    assert search_pages.estimated_entries(["bike", "red"]) == pytest.approx(bike + red)
    # "w" prefixes "well" and "works", in every description
    assert search_pages.estimated_entries(["w"]) > 2_500


def test_a_walk_that_outlasts_its_time_limit_is_read_again_by_bitmap(
    rum, rows, settings, monkeypatch
):
    from django.db.models import BooleanField
    from django.db.models.expressions import RawSQL

    settings.LISTINGS_SEARCH_RUM = True
    monkeypatch.setattr(search_pages, "FIRST_PLAN_TIMEOUT_MS", 20)
    params = parse_search_params({"q": "zanzibar"})
    # A filter that takes 10 ms a row: the walk cannot finish in 20 ms.
    slow = RawSQL("pg_sleep(0.01) IS NOT NULL", [], output_field=BooleanField())
    qs = listing_search(params).filter(slow)
    with CaptureQueriesContext(connection) as captured:
        found = search_page_rows(qs, 0, 21)
    sql = [q["sql"] for q in captured]
    assert walked(sql)
    assert any("enable_indexscan = off" in q for q in sql), sql
    assert [x.pk for x in found] == [x.pk for x in listing_search(params)[:21]]
    assert len(found) == 6


def test_without_the_rum_indexes_pages_are_read_the_plain_way(rum, rows, settings):
    expected, _ = page_ids({"q": "sofa"}, 2, rum=True, settings=settings)
    with connection.cursor() as cursor:  # undone with the test's transaction
        cursor.execute("DROP INDEX listing_search_rum_rest")
    search_pages._RUM_PRESENT.clear()
    assert not search_pages.rum_walk_available()
    found, sql = page_ids({"q": "sofa"}, 2, rum=True, settings=settings)
    assert found == expected
    assert not walked(sql)


def test_the_setting_turns_the_walk_off(rum, settings):
    settings.LISTINGS_SEARCH_RUM = False
    search_pages._RUM_PRESENT.clear()
    assert not search_pages.rum_walk_available()


def test_only_newest_first_text_searches_are_walked(rum, rows, settings):
    for query in (
        {"category": "books"},
        {"q": "sofa", "ordering": "relevance"},
        {"q": "sofa", "ordering": "price_asc"},
        {"q": "sofa", "lat": "45", "lng": "60", "ordering": "distance"},
    ):
        assert not walked(page_ids(query, 1, rum=True, settings=settings)[1]), query
    # nor a queryset ordered differently after the search
    params = parse_search_params({"q": "sofa"})
    with CaptureQueriesContext(connection) as captured:
        search_page_rows(listing_search(params).order_by("pk"), 0, 21)
    assert not walked([q["sql"] for q in captured])


def rum_indexes() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE indexname = ANY(%s) "
            "ORDER BY indexname",
            [list(search_pages.RUM_INDEXES)],
        )
        return [row[0] for row in cursor.fetchall()]


@pytest.mark.django_db(transaction=True)
def test_the_rum_migration_is_reversible():
    from django.core.management import call_command

    search_pages._RUM_PRESENT.clear()
    if not search_pages.rum_walk_available():
        pytest.skip("the rum extension is not installed (postgresql-15-rum)")
    try:
        call_command("migrate", "listings", "0005", verbosity=0)
        assert rum_indexes() == []
    finally:
        call_command("migrate", "listings", verbosity=0)
        search_pages._RUM_PRESENT.clear()
    assert rum_indexes() == sorted(search_pages.RUM_INDEXES)
    assert search_pages.rum_walk_available()
