"""Garbage in the query string of the search pages and the API lists: a 400
naming the parameter or a sensible page, never a 500.

Both passes run it: PostgreSQL refuses NUL characters and out-of-range
integers that SQLite takes, so each backend has its own ways to break.
"""

import pytest
from django.utils.html import escape

from listings.models import AttributeType, CategoryAttribute
from listings.selectors import category_tree_invalidate
from listings.tests.factories import CategoryFactory, ListingFactory

pytestmark = pytest.mark.django_db

NUL = "\x00"
HUGE = "9" * 30


@pytest.fixture
def cars(db):
    vehicles = CategoryFactory(name="Vehicles", slug="vehicles")
    cars = CategoryFactory(name="Cars", slug="cars", parent=vehicles)
    CategoryAttribute.objects.create(
        category=cars,
        name="mileage",
        label="Mileage",
        type=AttributeType.NUMBER,
        min_value=0,
        max_value=2_000_000,
        is_filterable=True,
    )
    CategoryAttribute.objects.create(
        category=cars,
        name="model",
        label="Model",
        type=AttributeType.TEXT,
        is_filterable=True,
    )
    category_tree_invalidate()
    ListingFactory.create_batch(3, category=cars, attributes={"mileage": 1000})
    return cars


BAD = [
    ({"price_min": "abc"}, "price_min"),
    ({"price_max": "-1"}, "price_max"),
    ({"price_min": HUGE}, "price_min"),
    ({"price_min": "1e999999"}, "price_min"),
    ({"price_min": "NaN"}, "price_min"),
    ({"lat": "91", "lng": "0"}, "lat"),
    ({"lat": "abc", "lng": "0"}, "lat"),
    ({"lat": "43", "lng": "1e400"}, "lng"),
    ({"lat": "43"}, "lng"),
    ({"lat": "43", "lng": "76", "radius_km": "-1"}, "radius_km"),
    ({"lat": "43", "lng": "76", "radius_km": "inf"}, "radius_km"),
    ({"radius_km": "5"}, "radius_km"),
    ({"ordering": "bogus"}, "ordering"),
    ({"ordering": "distance"}, "ordering"),
    ({"category": "nope"}, "category"),
    ({"category": NUL}, "category"),
    ({"q": "bmw" + NUL}, "q"),
    ({"q": NUL}, "q"),
    ({"q": "x" * 5000}, "q"),
    ({"city": "Al" + NUL + "maty"}, "city"),
    ({"city": "x" * 500}, "city"),
    ({"condition": "mint"}, "condition"),
    ({"has_photos": "maybe"}, "has_photos"),
    ({"posted_within_days": "abc"}, "posted_within_days"),
    ({"posted_within_days": HUGE}, "posted_within_days"),
    ({"posted_within_days": "0"}, "posted_within_days"),
    ({"attr_mileage_min": "100"}, "attr_mileage_min"),  # needs a category
    ({"category": "cars", "attr_mileage_min": "abc"}, "attr_mileage_min"),
    ({"category": "cars", "attr_mileage_max": HUGE}, "attr_mileage_max"),
    ({"category": "cars", "attr_model": "Camry" + NUL}, "attr_model"),
    ({"category": "cars", "attr_colour": "red"}, "attr_colour"),
]
BAD_IDS = [f"{field}-{i}" for i, (_, field) in enumerate(BAD)]

FINE = [
    {"q": "Алматы 🚗 машина"},
    {"q": "x" * 200},
    {"q": "'; DROP TABLE listings_listing; --"},
    {"q": "a:* | !b & (c)"},
    {"q": "___"},
    {"q": "!!!"},
    {"q": "a", "q2": NUL},  # unknown parameters are ignored
    {"city": "алматы"},
    {"price_min": "1 000,50"},
    {"lat": "-90", "lng": "180", "radius_km": "500", "ordering": "distance"},
    {"category": "cars", "attr_mileage_min": "0", "attr_mileage_max": "2000000"},
    {"category": "cars", "attr_model": "Camry"},
    {"ordering": "price_desc", "has_photos": "false"},
]


def _field_of_page_error(response) -> str:
    return response.context["error"].field


@pytest.mark.parametrize(("query", "field"), BAD, ids=BAD_IDS)
def test_search_page_answers_400_naming_the_parameter(client, cars, query, field):
    response = client.get("/search/", query)
    assert response.status_code == 400
    assert _field_of_page_error(response) == field
    assert escape(response.context["error"].message) in response.content.decode()


@pytest.mark.parametrize(("query", "field"), BAD, ids=BAD_IDS)
def test_listings_api_answers_400_naming_the_parameter(api_client, cars, query, field):
    response = api_client.get("/api/v1/listings/", query)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert list(body["errors"]) == [field]


# The category page sets the category itself: leave out the cases about it.
ON_CATEGORY_PAGE = [
    (query, field, case_id)
    for (query, field), case_id in zip(BAD, BAD_IDS, strict=True)
    if "category" not in query and not field.startswith("attr_")
]


@pytest.mark.parametrize(
    ("query", "field"),
    [(query, field) for query, field, _ in ON_CATEGORY_PAGE],
    ids=[case_id for _, _, case_id in ON_CATEGORY_PAGE],
)
def test_category_page_answers_400_naming_the_parameter(client, cars, query, field):
    response = client.get("/c/cars/", query)
    assert response.status_code == 400
    assert _field_of_page_error(response) == field


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"attr_mileage_min": "abc"}, "attr_mileage_min"),
        ({"attr_mileage_max": HUGE}, "attr_mileage_max"),
        ({"attr_model": NUL}, "attr_model"),
        ({"attr_colour": "red"}, "attr_colour"),
    ],
)
def test_category_page_checks_its_attribute_filters(client, cars, query, field):
    response = client.get("/c/cars/", query)
    assert response.status_code == 400
    assert _field_of_page_error(response) == field


@pytest.mark.parametrize("query", FINE)
def test_odd_but_valid_queries_answer_a_page(client, api_client, cars, query):
    assert client.get("/search/", query).status_code == 200
    assert api_client.get("/api/v1/listings/", query).status_code == 200
    assert client.get("/search/", {**query, "view": "map"}).status_code == 200


EMPTY = dict.fromkeys(
    [
        "q",
        "category",
        "price_min",
        "price_max",
        "condition",
        "city",
        "lat",
        "lng",
        "radius_km",
        "has_photos",
        "posted_within_days",
        "ordering",
    ],
    "",
)


def test_empty_search_parameters_are_no_filter(client, api_client, cars):
    # A form field left empty sends `?price_min=`: no filter, not 0 or a 400.
    listed = api_client.get("/api/v1/listings/", EMPTY)
    page = client.get("/search/", EMPTY)

    assert listed.status_code == 200
    assert len(listed.json()["results"]) == 3
    assert page.status_code == 200
    assert len(page.context["listings"]) == 3


@pytest.mark.parametrize("page", ["abc", "0", "-1", NUL, ""])
def test_search_pages_out_of_range_show_a_page(client, cars, page):
    # As Paginator.get_page: garbage is the first page.
    response = client.get("/search/", {"page": page, "ordering": "newest"})
    assert response.status_code == 200
    assert len(response.context["listings"]) == 3
    assert client.get("/c/cars/", {"page": page}).status_code == 200


@pytest.mark.parametrize("page", ["999999", HUGE])
def test_search_pages_past_the_end_are_empty_with_a_way_back(client, cars, page):
    response = client.get("/search/", {"page": page, "ordering": "newest"})
    assert response.status_code == 200
    assert response.context["listings"] == []
    assert "No more listings" in response.content.decode()
    assert client.get("/c/cars/", {"page": page}).status_code == 200


@pytest.mark.parametrize(
    ("page", "status"),
    [("999999", 200), (HUGE, 200), ("abc", 400), ("0", 400), ("-1", 400)],
)
def test_api_pages_are_validated(api_client, cars, page, status):
    response = api_client.get("/api/v1/listings/", {"page": page})
    assert response.status_code == status
    if status == 200:
        assert response.json()["results"] == []
        assert response.json()["next"] is None
    else:
        assert list(response.json()["errors"]) == ["page"]


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/listings/{}/",
        "/api/v1/saved-searches/{}/",  # DELETE: it has no GET
        "/api/v1/notifications/{}/",
        "/api/v1/users/{}/",
        "/api/v1/favourites/{}/",
        "/listings/{}/",
        "/users/{}/",
    ],
)
def test_huge_ids_in_paths_are_404(user_api_client, client, path):
    caller = user_api_client if path.startswith("/api/") else client
    method = "delete" if "favourites" in path or "saved-" in path else "get"
    response = getattr(caller, method)(path.format(HUGE))
    assert response.status_code == 404


def test_a_nul_in_an_api_category_slug_is_404(api_client, cars):
    assert api_client.get("/api/v1/categories/cars%00/").status_code == 404
    assert api_client.get("/api/v1/categories/cars/").status_code == 200


@pytest.mark.parametrize(
    "query",
    [
        {"is_read": "maybe"},
        {"kind": "party"},
        {"kind": NUL},
        {"page": "abc"},
        {"page_size": "-5"},
    ],
)
def test_notification_api_list_filters_are_validated(user_api_client, query):
    response = user_api_client.get("/api/v1/notifications/", query)
    assert response.status_code == 400
    assert list(response.json()["errors"]) == list(query)


@pytest.mark.parametrize(
    "query",
    [
        {"role": "emperor"},
        {"is_active": "sometimes"},
        {"joined_after": "yesterday"},
        {"q": "a" + NUL},
        {"city": NUL},
        {"ordering": "password"},
    ],
)
def test_admin_user_list_filters_are_validated(moderator, query):
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(moderator)
    response = client.get("/api/v1/admin/users/", query)
    assert response.status_code == 400
    assert list(response.json()["errors"]) == list(query)


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/search/",
        "/c/cars/",
        "/listings/new/",
        "/listings/attribute-fields/",
        "/my/listings/",
        "/favourites/",
        "/saved-searches/",
        "/notifications/",
        "/notifications/settings/",
        "/notifications/unsubscribe/a%00b/",
        "/account/settings/",
        "/accounts/login/",
        "/accounts/signup/",
        "/accounts/password/reset/",
        "/accounts/confirm-email/a%00b/",
        "/api/v1/",
        "/api/v1/categories/",
        "/api/v1/listings/",
        "/api/v1/me/",
        "/api/v1/favourites/",
        "/api/v1/saved-searches/",
        "/api/v1/notifications/",
        "/api/schema/",
    ],
)
def test_nul_and_garbage_in_any_query_string_is_never_a_500(client, user, cars, path):
    client.force_login(user)
    garbage = {
        "next": "/\x00",
        "page": "\x00",
        "page_size": "\x00",
        "category": "\x00",
        "filter": "\x00",
        "status": "\x00",
        "view": "\x00",
        "format": "\x00",
        "ordering": "\x00",
    }
    response = client.get(path, garbage)
    assert response.status_code < 500
