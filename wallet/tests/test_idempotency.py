from datetime import timedelta

import pytest
from django.utils import timezone

from listings.tests.factories import ListingFactory
from wallet import services
from wallet.models import IdempotencyRecord, Payment, PromotionPurchase, Wallet
from wallet.tests.helpers import deliver_sandbox_event

pytestmark = pytest.mark.django_db

KEY = {"HTTP_IDEMPOTENCY_KEY": "6f1c2b1e-3f4a-4c55-9d1e-0a7b2c3d4e5f"}


def _buy(client, listing, product="featured-7", **headers):
    return client.post(
        f"/api/v1/listings/{listing.pk}/promotions/",
        {"product": product},
        format="json",
        **headers,
    )


def test_same_key_same_body_replays_the_first_response_and_pays_once(
    user, user_api_client, fund, featured
):
    fund(user, 500_000)
    listing = ListingFactory(owner=user)

    first = _buy(user_api_client, listing, **KEY)
    second = _buy(user_api_client, listing, **KEY)

    assert (first.status_code, second.status_code) == (201, 201)
    assert second.json() == first.json()
    assert second.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert PromotionPurchase.objects.count() == 1
    assert Wallet.objects.get(user=user).balance == 350_000


def test_same_key_different_body_is_422_and_moves_nothing(
    user, user_api_client, fund, featured, bump
):
    fund(user, 500_000)
    listing = ListingFactory(owner=user)
    _buy(user_api_client, listing, **KEY)

    other_product = _buy(user_api_client, listing, product="bump", **KEY)
    other_listing = _buy(user_api_client, ListingFactory(owner=user), **KEY)

    assert other_product.status_code == 422
    assert other_product.json()["code"] == "idempotency_key_reused"
    assert other_listing.status_code == 422
    assert PromotionPurchase.objects.count() == 1
    assert Wallet.objects.get(user=user).balance == 350_000


def test_keys_belong_to_their_user(user, other_user, fund, featured):
    from rest_framework.test import APIClient

    fund(user, 500_000)
    fund(other_user, 500_000)
    mine, theirs = ListingFactory(owner=user), ListingFactory(owner=other_user)
    me, them = APIClient(), APIClient()
    me.force_authenticate(user)
    them.force_authenticate(other_user)

    assert _buy(me, mine, **KEY).status_code == 201
    assert _buy(them, theirs, **KEY).status_code == 201

    assert PromotionPurchase.objects.count() == 2


def test_expired_key_runs_again_as_a_new_request(user, user_api_client, fund, featured):
    fund(user, 500_000)
    listing = ListingFactory(owner=user)
    first = _buy(user_api_client, listing, **KEY)
    IdempotencyRecord.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

    again = _buy(user_api_client, listing, **KEY)

    assert again.status_code == 201
    assert again.json()["id"] != first.json()["id"]
    assert "Idempotent-Replayed" not in again.headers
    assert PromotionPurchase.objects.count() == 2
    assert Wallet.objects.get(user=user).balance == 200_000
    assert IdempotencyRecord.objects.count() == 1


def test_keys_expire_after_24_hours(user, user_api_client, fund, featured):
    fund(user, 500_000)
    _buy(user_api_client, ListingFactory(owner=user), **KEY)
    record = IdempotencyRecord.objects.get()
    lifetime = record.expires_at - record.created_at
    assert abs(lifetime - timedelta(hours=24)) < timedelta(seconds=5)


def test_failed_requests_are_not_stored_so_the_client_can_retry(
    user, user_api_client, fund, featured
):
    listing = ListingFactory(owner=user)

    poor = _buy(user_api_client, listing, **KEY)
    invalid = user_api_client.post(
        f"/api/v1/listings/{listing.pk}/promotions/",
        {"product": ""},
        format="json",
        **KEY,
    )
    assert (poor.status_code, invalid.status_code) == (409, 400)
    assert not IdempotencyRecord.objects.exists()

    fund(user, 500_000)
    retried = _buy(user_api_client, listing, **KEY)

    assert retried.status_code == 201
    assert Wallet.objects.get(user=user).balance == 350_000


def test_top_up_creation_is_idempotent_too(user, user_api_client):
    first = user_api_client.post(
        "/api/v1/wallet/top-ups/", {"amount": 500_000}, format="json", **KEY
    )
    second = user_api_client.post(
        "/api/v1/wallet/top-ups/", {"amount": 500_000}, format="json", **KEY
    )
    different = user_api_client.post(
        "/api/v1/wallet/top-ups/", {"amount": 600_000}, format="json", **KEY
    )

    assert (first.status_code, second.status_code, different.status_code) == (
        201,
        201,
        422,
    )
    assert second.json() == first.json()
    assert Payment.objects.count() == 1


def _top_up(client, key, amount=500_000):
    return client.post(
        "/api/v1/wallet/top-ups/",
        {"amount": amount},
        format="json",
        HTTP_IDEMPOTENCY_KEY=key,
    )


def test_a_top_up_retried_with_its_key_counts_once_against_the_rate_limit(
    user, user_api_client, settings, rate_limit_clock
):
    settings.WALLET_TOP_UP_RATE_LIMIT_STARTS = 2
    first = _top_up(user_api_client, "key-1")
    retries = [_top_up(user_api_client, "key-1") for _ in range(3)]

    second = _top_up(user_api_client, "key-2")
    third = _top_up(user_api_client, "key-3")
    retry_over_the_limit = _top_up(user_api_client, "key-1")

    assert first.status_code == 201
    for retry in (*retries, retry_over_the_limit):
        assert (retry.status_code, retry.json()) == (201, first.json())
        assert retry.headers["Idempotent-Replayed"] == "true"
    assert (second.status_code, third.status_code) == (201, 429)
    assert Payment.objects.count() == 2


def test_a_top_up_retried_with_its_key_is_not_refused_by_the_pending_limit(
    user, user_api_client, settings
):
    settings.WALLET_TOP_UP_MAX_PENDING = 1
    first = _top_up(user_api_client, "key-1")

    retry = _top_up(user_api_client, "key-1")
    another = _top_up(user_api_client, "key-2")

    assert (first.status_code, retry.status_code) == (201, 201)
    assert retry.json() == first.json()
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert (another.status_code, another.json()["code"]) == (
        409,
        "too_many_pending_top_ups",
    )
    assert Payment.objects.count() == 1


def test_a_refused_top_up_is_not_stored_so_its_key_works_later(
    user, user_api_client, settings
):
    settings.WALLET_TOP_UP_MAX_PENDING = 1
    waiting = services.payment_create(user=user, amount=100_000)
    refused = _top_up(user_api_client, "key-1")
    deliver_sandbox_event(waiting)
    retried = _top_up(user_api_client, "key-1")

    assert (refused.status_code, retried.status_code) == (409, 201)
    assert "Idempotent-Replayed" not in retried.headers
    assert Payment.objects.filter(status="pending").count() == 1


@pytest.mark.parametrize("key", ["", " ", "x" * 256, "bad\nkey"])
def test_malformed_keys_are_400(user_api_client, key):
    response = user_api_client.post(
        "/api/v1/wallet/top-ups/",
        {"amount": 500_000},
        format="json",
        HTTP_IDEMPOTENCY_KEY=key,
    )
    assert response.status_code == 400
    assert not Payment.objects.exists()


def test_purge_deletes_only_expired_keys(user, user_api_client, fund, featured):
    fund(user, 500_000)
    _buy(user_api_client, ListingFactory(owner=user), HTTP_IDEMPOTENCY_KEY="old")
    _buy(user_api_client, ListingFactory(owner=user), HTTP_IDEMPOTENCY_KEY="new")
    IdempotencyRecord.objects.filter(key="old").update(expires_at=timezone.now())

    assert services.idempotency_keys_purge() == 1
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["new"]
