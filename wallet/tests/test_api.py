import pytest
from django.utils import timezone

from listings.models import ListingStatus
from listings.tests.factories import ListingFactory
from wallet import services
from wallet.models import LedgerEntry, Payment, PromotionPurchase, Wallet
from wallet.tests.helpers import deliver_sandbox_event

pytestmark = pytest.mark.django_db


def test_wallet_endpoint_shows_balance_held_and_available(user, user_api_client, fund):
    fund(user, 500_000)
    services.escrow_hold(user=user, amount=200_000, reference="deal:1")

    response = user_api_client.get("/api/v1/wallet/")

    assert response.status_code == 200
    assert response.json() == {
        "balance": 500_000,
        "held": 200_000,
        "available": 300_000,
        "currency": "KZT",
        "balance_display": "5\u00a0000\u00a0₸",
        "available_display": "3\u00a0000\u00a0₸",
    }


def test_wallet_endpoints_need_login(api_client):
    for url in (
        "/api/v1/wallet/",
        "/api/v1/wallet/transactions/",
        "/api/v1/wallet/top-ups/",
        "/api/v1/wallet/top-ups/1/",
        "/api/v1/wallet/promotions/",
    ):
        assert api_client.get(url).status_code in (401, 403), url
    assert api_client.post(
        "/api/v1/wallet/top-ups/", {"amount": 100_000}
    ).status_code in (401, 403)
    assert api_client.post("/api/v1/wallet/top-ups/1/cancel/").status_code in (
        401,
        403,
    )
    assert api_client.post(
        "/api/v1/listings/1/promotions/", {"product": "x"}
    ).status_code in (401, 403)
    assert not Payment.objects.exists()


def test_transactions_list_with_running_balance_and_filters(
    user, user_api_client, fund, featured
):
    fund(user, 500_000)
    listing = ListingFactory(owner=user)
    services.promotion_purchase(
        user=user, listing_id=listing.pk, product_code="featured-7"
    )

    everything = user_api_client.get("/api/v1/wallet/transactions/").json()
    outgoing = user_api_client.get("/api/v1/wallet/transactions/?direction=out").json()
    top_ups = user_api_client.get("/api/v1/wallet/transactions/?kind=top_up").json()
    today = timezone.localdate().isoformat()
    dated = user_api_client.get(
        f"/api/v1/wallet/transactions/?created_after={today}"
    ).json()
    future = user_api_client.get(
        "/api/v1/wallet/transactions/?created_after=2999-01-01"
    ).json()

    assert everything["count"] == 2
    assert [
        (r["kind"], r["amount"], r["balance_after"]) for r in everything["results"]
    ] == [
        ("promotion", -150_000, 350_000),
        ("top_up", 500_000, 500_000),
    ]
    assert [r["kind"] for r in outgoing["results"]] == ["promotion"]
    assert [r["kind"] for r in top_ups["results"]] == ["top_up"]
    assert dated["count"] == 2
    assert future["count"] == 0


def test_transactions_bad_filter_is_400(user_api_client):
    assert (
        user_api_client.get("/api/v1/wallet/transactions/?kind=nope").status_code == 400
    )
    assert (
        user_api_client.get(
            "/api/v1/wallet/transactions/?created_after=yesterday"
        ).status_code
        == 400
    )


def test_transactions_show_only_my_wallet(user, other_user, user_api_client, fund):
    fund(other_user, 500_000)
    assert user_api_client.get("/api/v1/wallet/transactions/").json()["count"] == 0


def test_transactions_list_query_count_does_not_grow(
    user, user_api_client, fund, django_assert_max_num_queries
):
    for _ in range(6):
        fund(user, 100_000)
    with django_assert_max_num_queries(4):
        response = user_api_client.get("/api/v1/wallet/transactions/")
    assert response.json()["count"] == 6


def test_top_up_create_returns_payment_id_and_checkout_url(user, user_api_client):
    response = user_api_client.post(
        "/api/v1/wallet/top-ups/", {"amount": 500_000}, format="json"
    )

    assert response.status_code == 201
    body = response.json()
    payment = Payment.objects.get(user=user)
    assert body["payment_id"] == payment.pk
    assert body["status"] == "pending"
    assert (
        body["checkout_url"]
        == f"http://testserver/payments/sandbox/checkout/{payment.provider_reference}/"
    )


@pytest.mark.parametrize(
    "amount",
    [0, -5, 12.5, "500000", "12.5", None, True, 9_999, 50_000_001, [1], {"a": 1}],
)
def test_top_up_bad_amounts_are_400(user_api_client, amount):
    response = user_api_client.post(
        "/api/v1/wallet/top-ups/", {"amount": amount}, format="json"
    )
    assert response.status_code == 400
    body = response.json()
    # Serializer errors name the field at the top; domain errors under "errors".
    assert "amount" in body.get("errors", body)
    assert not Payment.objects.exists()


def test_top_up_missing_amount_is_400(user_api_client):
    response = user_api_client.post("/api/v1/wallet/top-ups/", {}, format="json")
    assert response.status_code == 400
    assert not Payment.objects.exists()


def test_top_up_past_the_pending_limit_is_409_with_a_clear_message(
    user, user_api_client, settings
):
    settings.WALLET_TOP_UP_MAX_PENDING = 2
    for _ in range(2):
        services.payment_create(user=user, amount=100_000)

    response = user_api_client.post(
        "/api/v1/wallet/top-ups/", {"amount": 500_000}, format="json"
    )

    assert response.status_code == 409
    body = response.json()
    assert (body["code"], body["errors"]) == ("too_many_pending_top_ups", {})
    assert body["detail"].startswith("You have 2 top-ups waiting for payment")
    assert "Retry-After" not in response.headers
    assert Payment.objects.filter(user=user).count() == 2


def test_top_up_past_the_rate_limit_is_429_with_retry_after(
    user, user_api_client, settings, rate_limit_clock
):
    settings.WALLET_TOP_UP_RATE_LIMIT_STARTS = 2
    statuses = []
    for _ in range(3):
        response = user_api_client.post(
            "/api/v1/wallet/top-ups/", {"amount": 100_000}, format="json"
        )
        statuses.append(response.status_code)

    assert statuses == [201, 201, 429]
    assert response.headers["Retry-After"] == str(40 * 60)
    assert response.json() == {
        "detail": "You have started too many top-ups in a short time; try again "
        "in about 40 minutes.",
        "code": "rate_limited",
        "errors": {},
    }
    assert Payment.objects.filter(user=user).count() == 2


def test_top_up_detail_follows_the_payment(user, user_api_client):
    payment = services.payment_create(user=user, amount=500_000)
    pending = user_api_client.get(f"/api/v1/wallet/top-ups/{payment.pk}/").json()
    deliver_sandbox_event(payment)
    paid = user_api_client.get(f"/api/v1/wallet/top-ups/{payment.pk}/").json()

    assert (pending["status"], pending["checkout_url"] is not None) == ("pending", True)
    assert (paid["status"], paid["checkout_url"]) == ("paid", None)
    assert paid["paid_at"] is not None


def test_another_users_payment_is_404(other_user, user_api_client):
    theirs = services.payment_create(user=other_user, amount=500_000)
    assert (
        user_api_client.get(f"/api/v1/wallet/top-ups/{theirs.pk}/").status_code == 404
    )
    assert user_api_client.get("/api/v1/wallet/top-ups/").json()["count"] == 0


def test_products_are_public(api_client, featured, bump):
    response = api_client.get("/api/v1/promotions/products/")
    assert response.status_code == 200
    assert [
        (p["code"], p["price"], p["duration_days"]) for p in response.json()["results"]
    ] == [
        ("bump", 50_000, 0),
        ("featured-7", 150_000, 7),
    ]


def test_buy_a_promotion_through_the_api(user, user_api_client, fund, featured):
    fund(user, 500_000)
    listing = ListingFactory(owner=user, view_count=4)

    response = user_api_client.post(
        f"/api/v1/listings/{listing.pk}/promotions/",
        {"product": "featured-7"},
        format="json",
    )

    assert response.status_code == 201
    body = response.json()
    assert (body["listing"], body["product"], body["price"], body["status"]) == (
        listing.pk,
        "featured-7",
        150_000,
        "active",
    )
    assert (body["views_at_start"], body["views_now"]) == (4, 4)
    assert Wallet.objects.get(user=user).balance == 350_000
    listed = user_api_client.get("/api/v1/wallet/promotions/").json()
    assert [p["id"] for p in listed["results"]] == [body["id"]]


def test_promotion_refusals_map_to_clear_statuses(
    user, other_user, user_api_client, fund, featured
):
    fund(user, 100_000)
    mine = ListingFactory(owner=user)
    mine_draft = ListingFactory(owner=user, status=ListingStatus.DRAFT)
    theirs = ListingFactory(owner=other_user)
    their_draft = ListingFactory(owner=other_user, status=ListingStatus.DRAFT)

    def buy(listing_id, product="featured-7"):
        return user_api_client.post(
            f"/api/v1/listings/{listing_id}/promotions/",
            {"product": product},
            format="json",
        )

    poor = buy(mine.pk)
    assert (poor.status_code, poor.json()["code"]) == (409, "insufficient_funds")
    assert buy(mine_draft.pk).json()["code"] == "listing_not_active"
    assert buy(theirs.pk).status_code == 403
    assert buy(their_draft.pk).status_code == 404
    assert buy(999_999).status_code == 404
    assert buy(mine.pk, "nope").status_code == 404
    assert buy(mine.pk, "").status_code == 400
    assert Wallet.objects.get(user=user).balance == 100_000
    assert not PromotionPurchase.objects.exists()
    assert LedgerEntry.objects.filter(wallet__user=user).count() == 1


def test_openapi_schema_documents_wallet_endpoints(client):
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    paths = schema["paths"]
    for path in (
        "/api/v1/wallet/",
        "/api/v1/wallet/transactions/",
        "/api/v1/wallet/top-ups/",
        "/api/v1/wallet/top-ups/{id}/",
        "/api/v1/wallet/top-ups/{id}/cancel/",
        "/api/v1/wallet/promotions/",
        "/api/v1/promotions/products/",
        "/api/v1/listings/{id}/promotions/",
    ):
        assert path in paths, path
    post = paths["/api/v1/wallet/top-ups/"]["post"]
    assert any(p["name"] == "Idempotency-Key" for p in post["parameters"])
    answers = post["responses"]
    assert {"201", "400", "401", "409", "422", "429", "503"} <= set(answers)
    assert "WALLET_TOP_UP_MAX_PENDING" in answers["409"]["description"]
    assert "WALLET_TOP_UP_RATE_LIMIT_STARTS" in answers["429"]["description"]
    assert "Retry-After" in answers["429"]["headers"]
    cancel = paths["/api/v1/wallet/top-ups/{id}/cancel/"]["post"]
    assert "requestBody" not in cancel
    assert {"200", "401", "403", "404", "409", "503"} <= set(cancel["responses"])
    assert "top_up_not_pending" in cancel["responses"]["409"]["description"]


def test_a_read_only_token_reads_the_wallet_but_cannot_move_money(
    client, user, fund, featured
):
    from allauth.headless.tokens.strategies.jwt import internal

    fund(user, 500_000)
    listing = ListingFactory(owner=user)
    client.force_login(user)
    token = internal.create_access_token(user, client.session, {"scope": "read"})
    headers = {"Authorization": f"Bearer {token}"}

    wallet = client.get("/api/v1/wallet/", headers=headers)
    top_up = client.post(
        "/api/v1/wallet/top-ups/",
        {"amount": 500_000},
        content_type="application/json",
        headers=headers,
    )
    purchase = client.post(
        f"/api/v1/listings/{listing.pk}/promotions/",
        {"product": "featured-7"},
        content_type="application/json",
        headers=headers,
    )

    assert wallet.status_code == 200
    assert (top_up.status_code, purchase.status_code) == (403, 403)
    assert Payment.objects.count() == 1
    assert not PromotionPurchase.objects.exists()
    assert Wallet.objects.get(user=user).balance == 500_000


def test_cancel_a_pending_top_up_through_the_api(user, user_api_client):
    payment = services.payment_create(user=user, amount=500_000)

    response = user_api_client.post(f"/api/v1/wallet/top-ups/{payment.pk}/cancel/")

    assert response.status_code == 200
    body = response.json()
    assert (body["payment_id"], body["status"], body["checkout_url"]) == (
        payment.pk,
        "cancelled",
        None,
    )
    assert body["closed_at"] is not None
    assert Payment.objects.get(pk=payment.pk).status == "cancelled"
    listed = user_api_client.get("/api/v1/wallet/top-ups/").json()["results"]
    assert [(p["payment_id"], p["status"]) for p in listed] == [
        (payment.pk, "cancelled")
    ]


def test_cancel_someone_elses_or_a_missing_top_up_is_404(
    user, other_user, user_api_client
):
    theirs = services.payment_create(user=other_user, amount=500_000)

    other = user_api_client.post(f"/api/v1/wallet/top-ups/{theirs.pk}/cancel/")
    missing = user_api_client.post("/api/v1/wallet/top-ups/999999/cancel/")
    not_a_number = user_api_client.post("/api/v1/wallet/top-ups/abc/cancel/")

    assert (other.status_code, other.json()["code"]) == (404, "not_found")
    assert missing.status_code == 404
    assert not_a_number.status_code == 404
    assert Payment.objects.get(pk=theirs.pk).status == "pending"


def test_cancel_a_top_up_that_no_longer_waits_is_409(user, user_api_client):
    paid = services.payment_create(user=user, amount=500_000)
    deliver_sandbox_event(paid)
    cancelled = services.payment_create(user=user, amount=100_000)
    services.payment_cancel(user=user, payment_id=cancelled.pk)

    paid_answer = user_api_client.post(f"/api/v1/wallet/top-ups/{paid.pk}/cancel/")
    again = user_api_client.post(f"/api/v1/wallet/top-ups/{cancelled.pk}/cancel/")

    assert paid_answer.status_code == 409
    assert paid_answer.json() == {
        "detail": "This top-up is already paid: the money is in your wallet.",
        "code": "top_up_not_pending",
        "errors": {},
    }
    assert (again.status_code, again.json()["detail"]) == (
        409,
        "This top-up is already cancelled.",
    )
    assert dict(Payment.objects.values_list("pk", "status")) == {
        paid.pk: "paid",
        cancelled.pk: "cancelled",
    }
    assert Wallet.objects.get(user=user).balance == 500_000


def test_cancel_needs_login_and_the_write_scope(client, api_client, user):
    from allauth.headless.tokens.strategies.jwt import internal

    payment = services.payment_create(user=user, amount=500_000)
    url = f"/api/v1/wallet/top-ups/{payment.pk}/cancel/"
    client.force_login(user)
    token = internal.create_access_token(user, client.session, {"scope": "read"})

    anonymous = api_client.post(url)
    read_only = client.post(url, headers={"Authorization": f"Bearer {token}"})

    assert anonymous.status_code in (401, 403)
    assert read_only.status_code == 403
    assert (
        "lacks the scope(s) this endpoint needs: write" in (read_only.json()["detail"])
    )
    assert Payment.objects.get(pk=payment.pk).status == "pending"
