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


FAVOURITES = "/api/v1/favourites/"


@pytest.fixture
def three_favourites(user):
    from listings.models import Favourite

    for listing in ListingFactory.create_batch(3):
        Favourite.objects.create(user=user, listing=listing)


def test_a_page_past_the_end_is_empty_and_points_back_to_the_last_page(
    user_api_client, three_favourites
):
    response = user_api_client.get(FAVOURITES, {"page": "999999", "page_size": "2"})
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 3
    assert body["results"] == []
    assert body["next"] is None
    assert body["previous"].endswith("?page=2&page_size=2")


def test_a_huge_page_number_is_just_past_the_end(user_api_client, three_favourites):
    response = user_api_client.get(FAVOURITES, {"page": "9" * 40})
    assert response.status_code == 200
    assert response.json()["results"] == []


def test_page_size_above_the_maximum_is_capped(user_api_client, three_favourites):
    response = user_api_client.get(FAVOURITES, {"page_size": "1000000"})
    assert response.status_code == 200
    assert len(response.json()["results"]) == 3


def test_the_last_page_by_name_and_ordinary_pages_still_work(
    user_api_client, three_favourites
):
    first = user_api_client.get(FAVOURITES, {"page_size": "2"}).json()
    assert len(first["results"]) == 2
    assert first["next"].endswith("?page=2&page_size=2")
    last = user_api_client.get(FAVOURITES, {"page_size": "2", "page": "last"}).json()
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


# --- Listing search: pages without a count -------------------------------------


def test_listing_search_pages_say_whether_a_next_page_exists(api_client):
    ListingFactory.create_batch(5)
    first = api_client.get(LIST, {"page_size": "2"}).json()
    assert set(first) == {"next", "previous", "results"}
    assert len(first["results"]) == 2
    assert first["next"].endswith("?page=2&page_size=2")
    assert first["previous"] is None
    last = api_client.get(LIST, {"page_size": "2", "page": "3"}).json()
    assert len(last["results"]) == 1
    assert last["next"] is None
    assert last["previous"].endswith("?page=2&page_size=2")
    seen = {
        r["id"]
        for p in (1, 2, 3)
        for r in api_client.get(LIST, {"page_size": "2", "page": str(p)}).json()[
            "results"
        ]
    }
    assert len(seen) == 5


def test_listing_search_past_the_end_and_past_the_last_reachable_page(
    api_client, monkeypatch
):
    from core import paginator

    monkeypatch.setattr(paginator, "MAX_PAGES", 2)
    monkeypatch.setattr(
        paginator.ProbePaginator.__init__, "__kwdefaults__", {"max_pages": 2}
    )
    ListingFactory.create_batch(5)
    second = api_client.get(LIST, {"page_size": "2", "page": "2"}).json()
    assert len(second["results"]) == 2
    assert second["next"] is None  # page 3 exists but is out of reach
    beyond = api_client.get(LIST, {"page_size": "2", "page": "9" * 30})
    assert beyond.status_code == 200
    assert beyond.json()["results"] == []


def test_listing_search_page_by_name_is_refused(api_client):
    response = api_client.get(LIST, {"page": "last"})
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "page": ["The page number must be a whole number."]
    }


def test_listing_search_runs_no_count(api_client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    ListingFactory.create_batch(3)
    with CaptureQueriesContext(connection) as queries:
        body = api_client.get(LIST, {"page_size": "2"}).json()
    assert len(body["results"]) == 2
    assert not [q for q in queries if "COUNT(" in q["sql"].upper()]
    page = [q["sql"] for q in queries if "LIMIT 3" in q["sql"]]
    assert len(page) == 1  # the page and its probe row, in one query


def test_other_lists_keep_their_count(user_api_client):
    assert user_api_client.get(FAVOURITES).json()["count"] == 0


def test_the_schema_documents_pages_without_a_count():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    page = schema["components"]["schemas"]["PaginatedListingCardList"]
    assert "count" not in page["properties"]
    assert page["required"] == ["results"]
    favourites = schema["components"]["schemas"]["PaginatedFavouriteList"]
    assert "count" in favourites["properties"]
