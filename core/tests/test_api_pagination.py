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
