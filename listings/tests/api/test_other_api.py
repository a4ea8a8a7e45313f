"""Categories, favourites and saved searches through the API."""

import pytest
from rest_framework.test import APIClient

from listings.models import Favourite, SavedSearch
from listings.tests.factories import ListingFactory

pytestmark = pytest.mark.django_db


def client_for(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_category_tree_with_attributes(api_client, tree):
    ListingFactory(category=tree["cars"])
    response = api_client.get("/api/v1/categories/", {"page_size": 100})
    assert response.status_code == 200
    roots = {node["slug"]: node for node in response.json()["results"]}
    vehicles = roots["vehicles"]
    assert vehicles["listing_count"] == 1
    cars = next(c for c in vehicles["children"] if c["slug"] == "cars")
    assert [a["name"] for a in cars["attributes"]] == [
        "make",
        "model",
        "year",
        "mileage",
        "fuel",
    ]
    assert cars["listing_count"] == 1


def test_category_detail_has_inherited_attributes(api_client, tree):
    body = api_client.get("/api/v1/categories/apartments/").json()
    assert [a["slug"] for a in body["ancestors"]] == ["real-estate"]
    assert [a["name"] for a in body["attributes"]] == [
        "deal",
        "rooms",
        "floor_area",
        "furnished",
    ]
    assert api_client.get("/api/v1/categories/nope/").status_code == 404


def test_favourites_flow(user, user_api_client, other_user):
    listing = ListingFactory()
    response = user_api_client.post(
        "/api/v1/favourites/", {"listing": listing.pk}, format="json"
    )
    assert response.status_code == 201
    assert response.json()["listing"]["id"] == listing.pk
    listed = user_api_client.get("/api/v1/favourites/").json()
    assert [f["listing"]["id"] for f in listed["results"]] == [listing.pk]
    # another user sees only their own (empty) list and cannot remove mine
    other = client_for(other_user)
    assert other.get("/api/v1/favourites/").json()["count"] == 0
    assert other.delete(f"/api/v1/favourites/{listing.pk}/").status_code == 404
    assert Favourite.objects.filter(user=user).count() == 1
    assert (
        user_api_client.delete(f"/api/v1/favourites/{listing.pk}/").status_code == 204
    )
    assert not Favourite.objects.exists()


def test_favourite_a_draft_of_someone_else_is_400_naming_the_listing(
    user_api_client,
):
    # The URL is fine; the body names a listing the caller cannot see.
    draft = ListingFactory(status="draft")
    response = user_api_client.post(
        "/api/v1/favourites/", {"listing": draft.pk}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {
        "detail": "No such listing.",
        "code": "invalid",
        "errors": {"listing": ["No such listing."]},
    }
    assert not Favourite.objects.exists()


@pytest.mark.parametrize("listing_id", ["999999", "9" * 30])
def test_removing_a_favourite_that_is_not_there_is_404(user_api_client, listing_id):
    # An id beyond 64 bits was a 500 on SQLite (foreign key lookup overflow).
    response = user_api_client.delete(f"/api/v1/favourites/{listing_id}/")
    assert response.status_code == 404
    assert response.json()["detail"] == "This listing is not in your favourites."


def test_favouriting_ones_own_listing_is_400_naming_the_listing(user, user_api_client):
    # The error named no field ("errors": {}) though the body's `listing` is
    # what is wrong; found by tests/test_api_fuzz.py.
    mine = ListingFactory(owner=user)
    response = user_api_client.post(
        "/api/v1/favourites/", {"listing": mine.pk}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {
        "detail": "You cannot favourite your own listing.",
        "code": "invalid",
        "errors": {"listing": ["You cannot favourite your own listing."]},
    }
    assert not Favourite.objects.exists()


@pytest.mark.parametrize("slug", ["cars%00", "%D0%B0%D0%B2%D1%82%D0%BE", "a.b"])
def test_a_category_slug_that_cannot_exist_is_404(api_client, tree, slug):
    # A NUL in the slug reached PostgreSQL, which refuses it: a 500 on PostGIS.
    response = api_client.get(f"/api/v1/categories/{slug}/")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_anonymous_has_no_favourites_or_saved_searches(api_client):
    assert api_client.get("/api/v1/favourites/").status_code in (401, 403)
    assert api_client.get("/api/v1/saved-searches/").status_code in (401, 403)
    assert api_client.post("/api/v1/saved-searches/", {}).status_code in (401, 403)


def test_saved_search_flow(user_api_client, other_user, tree):
    response = user_api_client.post(
        "/api/v1/saved-searches/",
        {
            "name": "Petrol cars",
            "frequency": "daily",
            "params": {"category": "cars", "attr_fuel": "petrol", "price_max": "9e6"},
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["params"] == {
        "category": "cars",
        "price_max": "9000000",
        "attr_fuel": "petrol",
    }
    assert body["query"] == "category=cars&price_max=9000000&attr_fuel=petrol"
    pk = body["id"]
    assert client_for(other_user).delete(
        f"/api/v1/saved-searches/{pk}/"
    ).status_code == (404)
    assert (
        client_for(other_user)
        .patch(f"/api/v1/saved-searches/{pk}/", {"frequency": "instant"})
        .status_code
        == 404
    )
    patched = user_api_client.patch(
        f"/api/v1/saved-searches/{pk}/", {"frequency": "instant"}, format="json"
    )
    assert patched.json()["frequency"] == "instant"
    assert user_api_client.delete(f"/api/v1/saved-searches/{pk}/").status_code == 204
    assert not SavedSearch.objects.exists()


def test_saved_search_list_says_which_cannot_notify_and_why(
    user, user_api_client, tree
):
    # given a working search, one without a filter and one on a gone category
    SavedSearch.objects.create(user=user, name="Cars", params={"category": "cars"})
    SavedSearch.objects.create(user=user, name="Everything", params={"q": "!!!"})
    SavedSearch.objects.create(user=user, name="Boats", params={"category": "boats"})
    # when the owner lists them
    response = user_api_client.get("/api/v1/saved-searches/")
    # then each says whether it notifies and, if not, why
    assert response.status_code == 200
    assert [
        (row["name"], row["notifies"], row["inactive_reason"])
        for row in response.json()["results"]
    ] == [
        ("Boats", False, "outdated"),
        ("Everything", False, "no_filter"),
        ("Cars", True, None),
    ]


def test_saved_search_schema_documents_why_one_cannot_notify():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    fields = schema["components"]["schemas"]["SavedSearch"]["properties"]
    assert fields["notifies"]["type"] == "boolean"
    assert fields["notifies"]["readOnly"] is True
    reason = fields["inactive_reason"]
    assert reason["readOnly"] is True and reason["nullable"] is True
    enums = [
        schema["components"]["schemas"][ref["$ref"].rsplit("/", 1)[1]]
        for ref in reason["oneOf"]
    ]
    assert enums[0]["enum"] == ["no_filter", "outdated"]


def test_saved_search_with_bad_params_is_400(user_api_client, tree):
    response = user_api_client.post(
        "/api/v1/saved-searches/",
        {"name": "x", "params": {"category": "cars", "attr_fuel": "coal"}},
        format="json",
    )
    assert response.status_code == 400
    assert "params.attr_fuel" in response.json()["errors"]


@pytest.mark.parametrize(
    "params",
    [{"ordering": "price_asc"}, {}, {"page": "3"}, {"q": "🚗"}],
    ids=["ordering-only", "empty", "page-only", "emoji-only"],
)
def test_saved_search_without_an_effective_filter_is_400(user_api_client, tree, params):
    # {"ordering": ...} answered 201 with params {} and then matched every
    # new listing; so did a q with no searchable words.
    response = user_api_client.post(
        "/api/v1/saved-searches/", {"name": "All", "params": params}, format="json"
    )
    assert response.status_code == 400
    message = (
        "This search has no filter, so it would match every new listing: "
        "add a search word (letters or digits) or a filter before saving it."
    )
    assert response.json() == {
        "detail": message,
        "code": "no_filter",
        "errors": {"params": [message]},
    }
    assert not SavedSearch.objects.exists()


def test_saved_search_with_a_wordless_q_and_a_filter_is_saved(user_api_client, tree):
    response = user_api_client.post(
        "/api/v1/saved-searches/",
        {"name": "Cars", "params": {"q": "🚗", "category": "cars"}},
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["params"] == {"q": "🚗", "category": "cars"}


def test_a_favourite_that_is_no_longer_public_can_be_removed(user, user_api_client):
    listing = ListingFactory(favourite_count=1)
    Favourite.objects.create(user=user, listing=listing)
    listing.status = "archived"
    listing.archived_from = "active"
    listing.save()
    response = user_api_client.delete(f"/api/v1/favourites/{listing.pk}/")
    assert response.status_code == 204
    assert not Favourite.objects.exists()
    listing.refresh_from_db()
    assert listing.favourite_count == 0


def test_schema_has_our_paths_and_no_warnings_from_them(monkeypatch):
    from drf_spectacular import drainage
    from drf_spectacular.generators import SchemaGenerator

    emitted = []
    original = drainage.GENERATOR_STATS.emit

    def record(msg, severity):
        emitted.append((drainage.GENERATOR_STATS._get_current_trace()[0] or "", msg))
        original(msg, severity)

    monkeypatch.setattr(drainage.GENERATOR_STATS, "emit", record)
    schema = SchemaGenerator().get_schema(request=None, public=True)
    ours = [(where, msg) for where, msg in emitted if "listings" in where + msg]
    assert ours == []
    for path in [
        "/api/v1/listings/",
        "/api/v1/listings/{id}/",
        "/api/v1/listings/{id}/publish/",
        "/api/v1/listings/{id}/renew/",
        "/api/v1/listings/{id}/archive/",
        "/api/v1/listings/{id}/mark-sold/",
        "/api/v1/listings/{id}/images/",
        "/api/v1/listings/{id}/images/reorder/",
        "/api/v1/listings/{id}/images/{image_id}/",
        "/api/v1/categories/",
        "/api/v1/categories/{slug}/",
        "/api/v1/favourites/",
        "/api/v1/favourites/{listing_id}/",
        "/api/v1/saved-searches/",
        "/api/v1/saved-searches/{id}/",
    ]:
        assert path in schema["paths"]
