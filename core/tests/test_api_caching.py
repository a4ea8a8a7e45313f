"""Cache-Control of the API (core/api/caching.py): anonymous reads of the
public listing data may be shared for a few seconds; every other answer is
private. Through Django's full middleware stack (the test client), with real
credentials: a JWT access token or a session cookie."""

import pytest
from allauth.headless.tokens.strategies.jwt import internal
from django.test import Client

from listings.models import ListingStatus
from listings.tests.factories import CategoryFactory, ListingFactory

pytestmark = pytest.mark.django_db

PUBLIC = {"public", "max-age=10", "stale-while-revalidate=5"}
PRIVATE = {"private", "no-cache"}


@pytest.fixture(autouse=True)
def _lifetimes(settings):
    settings.API_PUBLIC_CACHE_SECONDS = 10
    settings.API_PUBLIC_CACHE_STALE_SECONDS = 5


def cache_control(response) -> set[str]:
    header = response.headers.get("Cache-Control", "")
    return {part.strip() for part in header.split(",") if part.strip()}


def vary(response) -> set[str]:
    return {part.strip().lower() for part in response.headers["Vary"].split(",")}


def token_client(user) -> Client:
    """A client that sends only `Authorization: Bearer <access token>`."""
    login = Client()
    login.force_login(user)
    token = internal.create_access_token(user, login.session, {"scope": "read write"})
    return Client(headers={"Authorization": f"Bearer {token}"})


def session_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def listing():
    return ListingFactory(category=CategoryFactory(slug="bikes"))


def public_read_urls(listing) -> list[str]:
    return [
        f"/api/v1/listings/{listing.pk}/",
        "/api/v1/listings/",
        "/api/v1/listings/?q=listing&category=bikes&ordering=price_asc",
        "/api/v1/categories/",
        "/api/v1/categories/bikes/",
    ]


def test_anonymous_public_reads_may_be_shared_for_a_few_seconds(client, listing):
    for url in public_read_urls(listing):
        response = client.get(url)

        assert response.status_code == 200, url
        assert cache_control(response) == PUBLIC, url
        # A shared cache must keep callers with credentials apart ...
        assert {"authorization", "cookie", "accept"} <= vary(response), url
        # ... and an answer that sets a cookie is never shared.
        assert not response.cookies, url


def test_anonymous_head_is_public_too(client, listing):
    response = client.head(f"/api/v1/listings/{listing.pk}/")

    assert response.status_code == 200
    assert cache_control(response) == PUBLIC


@pytest.mark.parametrize("make_client", [token_client, session_client])
def test_callers_with_credentials_get_private_answers(make_client, listing, user):
    caller = make_client(user)

    for url in public_read_urls(listing):
        response = caller.get(url)

        assert response.status_code == 200, url
        assert cache_control(response) == PRIVATE, url
        assert "authorization" in vary(response), url


@pytest.mark.parametrize("make_client", [token_client, session_client])
def test_an_owner_reads_a_fresh_private_copy_of_a_change(make_client, listing):
    owner = make_client(listing.owner)
    url = f"/api/v1/listings/{listing.pk}/"

    changed = owner.patch(
        url, {"title": "Road bike, new chain"}, content_type="application/json"
    )
    response = owner.get(url)

    assert changed.status_code == 200
    assert cache_control(changed) == PRIVATE
    assert response.json()["title"] == "Road bike, new chain"
    assert cache_control(response) == PRIVATE


def test_error_answers_are_private(client, listing):
    draft = ListingFactory(status=ListingStatus.DRAFT)
    for url, status in [
        (f"/api/v1/listings/{draft.pk}/", 404),  # someone's draft
        ("/api/v1/listings/999999999/", 404),
        ("/api/v1/categories/no-such-category/", 404),
        ("/api/v1/listings/?page=abc", 400),
        ("/api/v1/listings/?category=no-such-category", 400),
    ]:
        response = client.get(url)

        assert response.status_code == status, url
        assert cache_control(response) == PRIVATE, url


def test_an_owners_draft_is_private(listing):
    draft = ListingFactory(owner=listing.owner, status=ListingStatus.DRAFT)

    response = token_client(listing.owner).get(f"/api/v1/listings/{draft.pk}/")

    assert response.status_code == 200
    assert cache_control(response) == PRIVATE


def test_writes_are_private(client, listing):
    response = client.post(
        "/api/v1/listings/", {"title": "x"}, content_type="application/json"
    )

    assert response.status_code == 401
    assert cache_control(response) == PRIVATE


def test_the_browsable_html_api_is_private(client, listing):
    response = client.get(f"/api/v1/listings/{listing.pk}/", HTTP_ACCEPT="text/html")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert cache_control(response) == PRIVATE


def test_nothing_is_public_when_the_lifetime_is_zero(client, listing, settings):
    settings.API_PUBLIC_CACHE_SECONDS = 0

    for url in public_read_urls(listing):
        assert cache_control(client.get(url)) == PRIVATE, url


def test_other_endpoints_and_pages_are_never_public(client, listing, user):
    caller = token_client(user)
    answers = [
        caller.get("/api/v1/favourites/"),
        caller.get("/api/v1/saved-searches/"),
        caller.get("/api/v1/me/"),
        client.get("/api/v1/me/"),
        client.get("/"),
    ]

    for response in answers:
        assert response.status_code in (200, 401), response.request["PATH_INFO"]
        assert "public" not in cache_control(response), response.request


def test_the_listing_page_counts_views_so_it_is_private(client, listing):
    response = client.get(f"/listings/{listing.pk}/")

    assert response.status_code == 200
    assert cache_control(response) == PRIVATE
