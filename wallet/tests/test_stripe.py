"""Stripe, offline: the Checkout Session call goes through the real library
with only its HTTP client replaced; webhooks are signed fixture events with a
Stripe-Signature header built as Stripe documents it."""

import hashlib
import hmac
import json
import logging
import time
from urllib.parse import parse_qs

import pytest
import stripe

from wallet import services
from wallet.models import Payment, PaymentEvent, PaymentStatus, Wallet
from wallet.payments.stripe_provider import StripeProvider

pytestmark = pytest.mark.django_db

WEBHOOK_SECRET = "whsec_test_secret"
WEBHOOK = "/payments/webhooks/stripe/"


class FakeStripeHTTP(stripe.HTTPClient):
    """Answers POST /v1/checkout/sessions and .../<id>/expire like the Stripe
    API would; `expire_error` makes the latter refuse."""

    name = "fake"

    def __init__(self, status=200):
        super().__init__()
        self.calls = []
        self.status = status
        self.expire_error: tuple[int, dict] | None = None

    def request(self, method, url, headers, post_data=None, *, _usage=None):
        self.calls.append((method, url, dict(headers or {}), post_data))
        if self.status != 200:
            body = {"error": {"type": "api_error", "message": "Stripe is down"}}
            return json.dumps(body), self.status, {}
        if url.endswith("/expire"):
            if self.expire_error is not None:
                status, error = self.expire_error
                return json.dumps({"error": error}), status, {}
            session_id = url.split("/")[-2]
            session = {"id": session_id, "object": "checkout.session"}
            session |= {"status": "expired", "payment_status": "unpaid"}
            return json.dumps(session), 200, {"request-id": "req_fake"}
        form = parse_qs(post_data or "")
        session = {
            "id": "cs_test_a1b2c3",
            "object": "checkout.session",
            "url": "https://checkout.stripe.com/c/pay/cs_test_a1b2c3",
            "client_reference_id": form["client_reference_id"][0],
            "amount_total": int(form["line_items[0][price_data][unit_amount]"][0]),
            "currency": form["line_items[0][price_data][currency]"][0],
            "payment_status": "unpaid",
            "status": "open",
        }
        return json.dumps(session), 200, {"request-id": "req_fake"}

    def close(self):
        pass


@pytest.fixture
def stripe_on(settings, monkeypatch):
    settings.PAYMENT_PROVIDER = "stripe"
    settings.STRIPE_SECRET_KEY = "sk_test_123"
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    fake = FakeStripeHTTP()
    monkeypatch.setattr(StripeProvider, "http_client", fake)
    return fake


def stripe_signature(payload: bytes, secret=WEBHOOK_SECRET, timestamp=None) -> str:
    timestamp = int(time.time()) if timestamp is None else timestamp
    signed = f"{timestamp}.".encode() + payload
    v1 = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={v1}"


def session_event(payment, event_type, *, event_id, payment_status="paid", amount=None):
    event = {
        "id": event_id,
        "object": "event",
        "api_version": "2025-09-30.clover",
        "created": int(time.time()),
        "livemode": False,
        "type": event_type,
        "data": {
            "object": {
                "id": payment.provider_reference,
                "object": "checkout.session",
                "amount_total": payment.amount if amount is None else amount,
                "currency": payment.currency.lower(),
                "client_reference_id": str(payment.pk),
                "metadata": {"payment_id": str(payment.pk)},
                "mode": "payment",
                "payment_status": payment_status,
                "status": "complete",
            }
        },
    }
    return json.dumps(event).encode()


def post_event(client, payload, signature=None):
    return client.post(
        WEBHOOK,
        data=payload,
        content_type="application/json",
        headers={"Stripe-Signature": signature or stripe_signature(payload)},
    )


def test_top_up_creates_a_checkout_session_through_the_stripe_library(user, stripe_on):
    payment = services.payment_create(user=user, amount=500_000)

    assert payment.provider == "stripe"
    assert payment.provider_reference == "cs_test_a1b2c3"
    assert payment.checkout_url == "https://checkout.stripe.com/c/pay/cs_test_a1b2c3"
    [(method, url, headers, body)] = stripe_on.calls
    assert (method, url) == ("post", "https://api.stripe.com/v1/checkout/sessions")
    assert headers["Authorization"] == "Bearer sk_test_123"
    assert headers["Idempotency-Key"] == f"wallet-top-up-{payment.pk}"
    form = parse_qs(body)
    assert form["mode"] == ["payment"]
    assert form["client_reference_id"] == [str(payment.pk)]
    assert form["line_items[0][price_data][unit_amount]"] == ["500000"]
    assert form["line_items[0][price_data][currency]"] == ["kzt"]
    assert form["success_url"] == [
        f"http://127.0.0.1:8000/wallet/top-ups/{payment.pk}/"
    ]


def test_stripe_outage_is_a_retryable_503_and_leaves_no_payment(
    user, stripe_on, api_client
):
    stripe_on.status = 500
    api_client.force_authenticate(user)

    response = api_client.post(
        "/api/v1/wallet/top-ups/", {"amount": 500_000}, format="json"
    )

    assert response.status_code == 503
    assert response.json()["code"] == "provider_unavailable"
    assert not Payment.objects.exists()


def test_completed_session_credits_once_however_often_delivered(
    client, user, stripe_on
):
    payment = services.payment_create(user=user, amount=500_000)
    payload = session_event(payment, "checkout.session.completed", event_id="evt_1")

    responses = [post_event(client, payload) for _ in range(3)]

    assert [r.json()["status"] for r in responses] == [
        "credited",
        "duplicate",
        "duplicate",
    ]
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.PAID
    assert Wallet.objects.get(user=user).balance == 500_000


def test_bad_stripe_signature_is_400_and_credits_nothing(client, user, stripe_on):
    payment = services.payment_create(user=user, amount=500_000)
    payload = session_event(payment, "checkout.session.completed", event_id="evt_1")

    wrong_secret = post_event(client, payload, stripe_signature(payload, "whsec_other"))
    stale = post_event(
        client, payload, stripe_signature(payload, timestamp=int(time.time()) - 3600)
    )
    missing = client.post(WEBHOOK, data=payload, content_type="application/json")

    assert [wrong_secret.status_code, stale.status_code, missing.status_code] == [
        400,
        400,
        400,
    ]
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.PENDING
    assert Wallet.objects.get(user=user).balance == 0
    assert not PaymentEvent.objects.exists()


def test_async_payment_in_any_order_credits_once(client, user, stripe_on):
    payment = services.payment_create(user=user, amount=500_000)
    completed_unpaid = session_event(
        payment, "checkout.session.completed", event_id="evt_c", payment_status="unpaid"
    )
    succeeded = session_event(
        payment, "checkout.session.async_payment_succeeded", event_id="evt_s"
    )

    # The success arrives before the completion that announced it.
    assert post_event(client, succeeded).json()["status"] == "credited"
    assert post_event(client, completed_unpaid).json()["status"] == "ignored"

    payment.refresh_from_db()
    assert payment.status == PaymentStatus.PAID
    assert Wallet.objects.get(user=user).balance == 500_000


def test_async_failure_and_expiry_credit_nothing(client, user, stripe_on):
    failed = services.payment_create(user=user, amount=500_000)
    Payment.objects.filter(pk=failed.pk).update(provider_reference="cs_test_failed")
    failed.refresh_from_db()
    expired = services.payment_create(user=user, amount=200_000)

    assert (
        post_event(
            client,
            session_event(
                failed, "checkout.session.async_payment_failed", event_id="evt_f"
            ),
        ).json()["status"]
        == "declined"
    )
    assert (
        post_event(
            client,
            session_event(
                expired,
                "checkout.session.expired",
                event_id="evt_e",
                payment_status="unpaid",
            ),
        ).json()["status"]
        == "expired"
    )

    assert dict(Payment.objects.values_list("pk", "status")) == {
        failed.pk: PaymentStatus.DECLINED,
        expired.pk: PaymentStatus.EXPIRED,
    }
    assert Wallet.objects.get(user=user).balance == 0


def test_unrelated_stripe_events_are_acknowledged_and_ignored(client, stripe_on):
    payload = json.dumps(
        {
            "id": "evt_other",
            "object": "event",
            "type": "customer.created",
            "data": {"object": {"id": "cus_1"}},
        }
    ).encode()
    response = post_event(client, payload)
    assert response.status_code == 200
    assert response.json() == {"status": "ignored"}


def test_paid_amount_differing_from_the_payment_is_refused(client, user, stripe_on):
    payment = services.payment_create(user=user, amount=500_000)
    payload = session_event(
        payment, "checkout.session.completed", event_id="evt_x", amount=1
    )

    response = post_event(client, payload)

    assert response.status_code == 400
    assert Wallet.objects.get(user=user).balance == 0


@pytest.mark.parametrize(
    ("payload", "status"),
    [
        (b"[]", 400),
        (b'{"id": "evt_1", "type": 5}', 400),
        (b'{"type": "checkout.session.completed"}', 400),
        (b"\xff", 400),
        (b'{"id": "evt_2", "type": "checkout.session.completed", "data": []}', 200),
    ],
)
def test_malformed_signed_stripe_payloads_never_500(client, stripe_on, payload, status):
    response = post_event(client, payload)
    assert response.status_code == status
    assert not Payment.objects.exists()


# --- cancelling a top-up: the Checkout Session is expired -------------------


def test_cancel_expires_the_checkout_session_after_commit(
    user, stripe_on, django_capture_on_commit_callbacks
):
    payment = services.payment_create(user=user, amount=500_000)

    with django_capture_on_commit_callbacks(execute=True):
        services.payment_cancel(user=user, payment_id=payment.pk)

    [_, (method, url, headers, _body)] = stripe_on.calls
    assert (method, url) == (
        "post",
        "https://api.stripe.com/v1/checkout/sessions/cs_test_a1b2c3/expire",
    )
    assert headers["Authorization"] == "Bearer sk_test_123"
    assert Payment.objects.get(pk=payment.pk).status == PaymentStatus.CANCELLED


def test_a_session_stripe_no_longer_expires_is_logged_and_the_cancel_stands(
    user, stripe_on, caplog, django_capture_on_commit_callbacks
):
    caplog.set_level(logging.INFO, logger="wallet.payments.stripe_provider")
    payment = services.payment_create(user=user, amount=500_000)
    stripe_on.expire_error = (
        400,
        {
            "type": "invalid_request_error",
            "message": 'Only Checkout Sessions with a status in ["open"] can '
            "be expired.",
        },
    )

    with django_capture_on_commit_callbacks(execute=True):
        services.payment_cancel(user=user, payment_id=payment.pk)

    assert Payment.objects.get(pk=payment.pk).status == PaymentStatus.CANCELLED
    assert "Stripe session cs_test_a1b2c3 not expired" in caplog.text


def test_a_stripe_failure_while_expiring_is_logged_and_the_cancel_stands(
    user, stripe_on, caplog, django_capture_on_commit_callbacks
):
    payment = services.payment_create(user=user, amount=500_000)
    stripe_on.expire_error = (
        401,
        {"type": "invalid_request_error", "message": "Invalid API Key provided"},
    )

    with django_capture_on_commit_callbacks(execute=True):
        services.payment_cancel(user=user, payment_id=payment.pk)

    assert Payment.objects.get(pk=payment.pk).status == PaymentStatus.CANCELLED
    assert f"payment {payment.pk}: checkout not expired" in caplog.text


def test_a_session_of_a_provider_switched_off_since_is_left_alone(
    user, stripe_on, settings, caplog, django_capture_on_commit_callbacks
):
    caplog.set_level(logging.INFO, logger="wallet.services.payments")
    payment = services.payment_create(user=user, amount=500_000)
    settings.PAYMENT_PROVIDER = "sandbox"

    with django_capture_on_commit_callbacks(execute=True):
        services.payment_cancel(user=user, payment_id=payment.pk)

    assert len(stripe_on.calls) == 1  # the session's creation only
    assert Payment.objects.get(pk=payment.pk).status == PaymentStatus.CANCELLED
    assert "provider stripe not enabled, checkout not expired" in caplog.text


def test_the_expired_webhook_after_cancelling_changes_nothing_but_paid_credits(
    client, user, stripe_on
):
    payment = services.payment_create(user=user, amount=500_000)
    services.payment_cancel(user=user, payment_id=payment.pk)
    expired = session_event(
        payment, "checkout.session.expired", event_id="evt_e", payment_status="unpaid"
    )
    completed = session_event(payment, "checkout.session.completed", event_id="evt_c")

    assert post_event(client, expired).json()["status"] == "ignored_cancelled"
    assert Payment.objects.get(pk=payment.pk).status == PaymentStatus.CANCELLED
    # Paid before the session closed: the money is at Stripe, so it is ours.
    assert post_event(client, completed).json()["status"] == "credited"
    assert Payment.objects.get(pk=payment.pk).status == PaymentStatus.PAID
    assert Wallet.objects.get(user=user).balance == 500_000
