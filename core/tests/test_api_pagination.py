"""`page` and `page_size` of every API list are validated input."""

import pytest

from listings.tests.factories import ListingFactory

pytestmark = pytest.mark.django_db

LIST = "/api/v1/listings/"


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ({"page": "abc"}, "page", "The page number must be a whole number."),
        ({"page": "0"}, "page", "The page number must be 1 or more."),
        ({"page": "-3"}, "page", "The page number must be 1 or more."),
        ({"page": "1.5"}, "page", "The page number must be a whole number."),
        ({"page_size": "abc"}, "page_size", "The page size must be a whole number."),
        ({"page_size": "0"}, "page_size", "The page size must be 1 or more."),
    ],
)
def test_bad_page_parameters_are_400_naming_the_parameter(
    api_client, query, field, message
):
    response = api_client.get(LIST, query)
    assert response.status_code == 400
    assert response.json() == {
        "detail": message,
        "code": "invalid",
        "errors": {field: [message]},
    }


def test_a_page_past_the_end_is_empty_and_points_back_to_the_last_page(api_client):
    ListingFactory.create_batch(3)
    response = api_client.get(LIST, {"page": "999999", "page_size": "2"})
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 3
    assert body["results"] == []
    assert body["next"] is None
    assert body["previous"].endswith("?page=2&page_size=2")


def test_a_huge_page_number_is_just_past_the_end(api_client):
    response = api_client.get(LIST, {"page": "9" * 40})
    assert response.status_code == 200
    assert response.json()["results"] == []


def test_page_size_above_the_maximum_is_capped(api_client):
    ListingFactory.create_batch(3)
    response = api_client.get(LIST, {"page_size": "1000000"})
    assert response.status_code == 200
    assert len(response.json()["results"]) == 3


def test_the_last_page_by_name_and_ordinary_pages_still_work(api_client):
    ListingFactory.create_batch(3)
    first = api_client.get(LIST, {"page_size": "2"}).json()
    assert len(first["results"]) == 2
    assert first["next"].endswith("?page=2&page_size=2")
    last = api_client.get(LIST, {"page_size": "2", "page": "last"}).json()
    assert len(last["results"]) == 1
    assert last["next"] is None


def test_an_empty_list_has_an_empty_first_page(user_api_client):
    response = user_api_client.get("/api/v1/favourites/")
    assert response.status_code == 200
    assert response.json() == {
        "count": 0,
        "next": None,
        "previous": None,
        "results": [],
    }


# --- Listing search: the count stops at a cap -------------------------------------


@pytest.fixture
def cap_of_five(monkeypatch):
    from core import paginator

    original = paginator.CappedPaginator.__init__

    def small_cap(self, object_list, per_page, **kwargs):
        original(self, object_list, per_page, cap=5, **kwargs)

    monkeypatch.setattr(paginator.CappedPaginator, "__init__", small_cap)


def test_listing_search_counts_exactly_below_the_cap(api_client, cap_of_five):
    ListingFactory.create_batch(4)
    body = api_client.get(LIST, {"page_size": "2"}).json()
    assert (body["count"], body["count_is_exact"]) == (4, True)
    assert len(body["results"]) == 2


def test_listing_search_counts_up_to_the_cap_and_pages_only_that_far(
    api_client, cap_of_five, django_assert_max_num_queries
):
    ListingFactory.create_batch(8)
    body = api_client.get(LIST, {"page_size": "2"}).json()
    assert (body["count"], body["count_is_exact"]) == (5, False)
    # Pages 1-3 hold the first five results; page 3 has one and no next link.
    third = api_client.get(LIST, {"page_size": "2", "page": "3"}).json()
    assert len(third["results"]) == 1
    assert third["next"] is None
    past = api_client.get(LIST, {"page_size": "2", "page": "4"}).json()
    assert past["results"] == []
    assert past["previous"].endswith("page=3&page_size=2")


def test_the_count_reads_at_most_cap_plus_one_rows(api_client, cap_of_five):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    ListingFactory.create_batch(8)
    with CaptureQueriesContext(connection) as queries:
        api_client.get(LIST)
    counts = [q["sql"] for q in queries if "COUNT(" in q["sql"].upper()]
    assert len(counts) == 1
    assert "LIMIT 6" in counts[0]


def test_other_lists_keep_an_exact_count(user_api_client):
    body = user_api_client.get("/api/v1/favourites/").json()
    assert "count_is_exact" not in body


def test_the_schema_documents_the_capped_count():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    page = schema["components"]["schemas"]["PaginatedListingCardList"]
    assert page["required"] == ["count", "count_is_exact", "results"]
    assert page["properties"]["count_is_exact"]["type"] == "boolean"
