import json
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import Notification
from core.errors import Busy, Conflict, NotFound, ValidationError
from wallet import services
from wallet.models import (
    LedgerTransaction,
    Payment,
    PaymentEvent,
    PaymentStatus,
    Wallet,
)
from wallet.payments.base import ProviderUnavailable, WebhookRejected, signature_header
from wallet.payments.sandbox import SandboxProvider
from wallet.services.payments import TopUpRateLimited
from wallet.tests.helpers import deliver_sandbox_event

pytestmark = pytest.mark.django_db

WEBHOOK = "/payments/webhooks/sandbox/"


def _balance(user):
    return Wallet.objects.get(user=user).balance


def _post_webhook(client, body, headers):
    return client.post(
        WEBHOOK,
        data=body,
        content_type="application/json",
        headers=headers,
    )


def test_payment_create_opens_a_pending_sandbox_checkout(user):
    payment = services.payment_create(user=user, amount=500_000)

    assert payment.status == PaymentStatus.PENDING
    assert (payment.amount, payment.currency, payment.provider) == (
        500_000,
        "KZT",
        "sandbox",
    )
    assert payment.provider_reference.startswith("sbx_cs_")
    assert (
        payment.checkout_url
        == f"/payments/sandbox/checkout/{payment.provider_reference}/"
    )
    assert _balance(user) == 0


@pytest.mark.parametrize("amount", [0, -100, 9_999, 50_000_001])
def test_payment_create_refuses_amounts_out_of_bounds(user, amount):
    with pytest.raises(ValidationError) as exc:
        services.payment_create(user=user, amount=amount)
    assert exc.value.field == "amount"
    assert not Payment.objects.exists()


@pytest.mark.parametrize("amount", [1.5, "100000", True, None])
def test_payment_create_refuses_amounts_that_are_not_integers(user, amount):
    with pytest.raises(ValidationError):
        services.payment_create(user=user, amount=amount)
    assert not Payment.objects.exists()


def test_webhook_endpoint_credits_a_paid_payment_once(client, user):
    payment = services.payment_create(user=user, amount=500_000)
    body, headers = SandboxProvider().build_event(
        payment=payment, event_type="payment.succeeded"
    )

    first = _post_webhook(client, body, headers)
    second = _post_webhook(client, body, headers)
    third = _post_webhook(client, body, headers)

    assert first.status_code == 200 and first.json() == {"status": "credited"}
    assert second.json() == {"status": "duplicate"}
    assert third.json() == {"status": "duplicate"}
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.PAID
    assert payment.ledger_transaction is not None
    assert _balance(user) == 500_000
    assert PaymentEvent.objects.filter(payment=payment).count() == 1
    assert Notification.objects.filter(user=user, kind="wallet").count() == 1


def test_a_second_paid_event_for_the_same_payment_credits_nothing(user):
    payment = services.payment_create(user=user, amount=500_000)

    assert deliver_sandbox_event(payment) == "credited"
    assert deliver_sandbox_event(payment) == "already_paid"

    assert _balance(user) == 500_000
    assert LedgerTransaction.objects.count() == 1


def test_bad_signature_is_400_and_credits_nothing(client, user):
    payment = services.payment_create(user=user, amount=500_000)
    body, _ = SandboxProvider().build_event(
        payment=payment, event_type="payment.succeeded"
    )
    forged = signature_header("not-the-secret", body)

    response = _post_webhook(client, body, {"X-Sandbox-Signature": forged})

    assert response.status_code == 400
    assert response.json()["code"] == "webhook_rejected"
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.PENDING
    assert _balance(user) == 0
    assert not PaymentEvent.objects.exists()


def test_tampered_body_missing_header_and_stale_signature_are_refused(client, user):
    payment = services.payment_create(user=user, amount=500_000)
    provider = SandboxProvider()
    body, headers = provider.build_event(
        payment=payment, event_type="payment.succeeded"
    )
    tampered = body.replace(b"500000", b"900000")
    _, old_headers = provider.build_event(
        payment=payment,
        event_type="payment.succeeded",
        timestamp=int(time.time()) - 3600,
    )

    assert _post_webhook(client, tampered, headers).status_code == 400
    assert _post_webhook(client, body, {}).status_code == 400
    assert (
        _post_webhook(client, body, {"X-Sandbox-Signature": "t=1,v0=abc"}).status_code
        == 400
    )
    assert _post_webhook(client, body, old_headers).status_code == 400
    assert _balance(user) == 0


def test_malformed_json_with_a_valid_signature_is_400(client, settings):
    body = b"{not json"
    headers = {
        "X-Sandbox-Signature": signature_header(
            settings.PAYMENT_SANDBOX_WEBHOOK_SECRET, body
        )
    }
    assert _post_webhook(client, body, headers).status_code == 400


def test_webhook_only_accepts_post_and_known_providers(client):
    assert client.get(WEBHOOK).status_code == 405
    assert (
        client.post(
            "/payments/webhooks/paypal/", data=b"{}", content_type="application/json"
        ).status_code
        == 404
    )
    # Stripe is not the configured provider here.
    assert (
        client.post(
            "/payments/webhooks/stripe/", data=b"{}", content_type="application/json"
        ).status_code
        == 404
    )


def test_declined_payment_credits_nothing(user):
    payment = services.payment_create(user=user, amount=500_000)

    assert deliver_sandbox_event(payment, "payment.declined") == "declined"

    payment.refresh_from_db()
    assert payment.status == PaymentStatus.DECLINED
    assert payment.closed_at is not None
    assert _balance(user) == 0
    assert not LedgerTransaction.objects.exists()


def test_out_of_order_paid_then_declined_stays_paid(user):
    payment = services.payment_create(user=user, amount=500_000)

    deliver_sandbox_event(payment, "payment.succeeded")
    assert deliver_sandbox_event(payment, "payment.declined") == "ignored_paid"

    payment.refresh_from_db()
    assert payment.status == PaymentStatus.PAID
    assert _balance(user) == 500_000


def test_out_of_order_declined_then_paid_ends_paid_once(user):
    payment = services.payment_create(user=user, amount=500_000)

    deliver_sandbox_event(payment, "payment.declined")
    assert deliver_sandbox_event(payment, "payment.succeeded") == "credited"
    deliver_sandbox_event(payment, "payment.succeeded")

    payment.refresh_from_db()
    assert payment.status == PaymentStatus.PAID
    assert _balance(user) == 500_000
    assert LedgerTransaction.objects.count() == 1


def test_amount_mismatch_is_refused_and_credits_nothing(user, settings):
    payment = services.payment_create(user=user, amount=500_000)
    event = {
        "id": "evt_mismatch",
        "type": "payment.succeeded",
        "created": int(time.time()),
        "data": {
            "reference": payment.provider_reference,
            "amount": 900_000,
            "currency": "KZT",
        },
    }
    body = json.dumps(event).encode()
    headers = {
        "X-Sandbox-Signature": signature_header(
            settings.PAYMENT_SANDBOX_WEBHOOK_SECRET, body
        )
    }

    with pytest.raises(WebhookRejected):
        services.payment_webhook_receive(
            provider_name="sandbox", payload=body, headers=headers
        )

    payment.refresh_from_db()
    assert payment.status == PaymentStatus.PENDING
    assert _balance(user) == 0
    assert not PaymentEvent.objects.exists()


def test_event_for_an_unknown_payment_is_recorded_and_ignored(settings):
    event = {
        "id": "evt_unknown",
        "type": "payment.succeeded",
        "data": {"reference": "sbx_cs_nope", "amount": 100, "currency": "KZT"},
    }
    body = json.dumps(event).encode()
    headers = {
        "X-Sandbox-Signature": signature_header(
            settings.PAYMENT_SANDBOX_WEBHOOK_SECRET, body
        )
    }

    first = services.payment_webhook_receive(
        provider_name="sandbox", payload=body, headers=headers
    )
    again = services.payment_webhook_receive(
        provider_name="sandbox", payload=body, headers=headers
    )

    assert (first, again) == ("unknown_payment", "duplicate")
    assert PaymentEvent.objects.get().payment is None


def test_expiry_job_expires_old_pending_payments_only(user, fund):
    old = services.payment_create(user=user, amount=100_000)
    fresh = services.payment_create(user=user, amount=200_000)
    paid = fund(user, 300_000)
    later = timezone.now() + timedelta(hours=26)
    Payment.objects.filter(pk=fresh.pk).update(created_at=later - timedelta(hours=1))

    assert services.payment_expire_stale(now=later) == 1
    assert services.payment_expire_stale(now=later) == 0

    statuses = dict(Payment.objects.values_list("pk", "status"))
    assert statuses == {
        old.pk: PaymentStatus.EXPIRED,
        fresh.pk: PaymentStatus.PENDING,
        paid.pk: PaymentStatus.PAID,
    }
    assert _balance(user) == 300_000


def test_a_late_paid_event_still_credits_an_expired_payment(user):
    payment = services.payment_create(user=user, amount=100_000)
    services.payment_expire_stale(now=timezone.now() + timedelta(days=2))

    assert deliver_sandbox_event(payment) == "credited"
    assert deliver_sandbox_event(payment, "payment.expired") == "ignored_paid"

    payment.refresh_from_db()
    assert payment.status == PaymentStatus.PAID
    assert _balance(user) == 100_000


def test_provider_failure_leaves_no_payment(user, monkeypatch):
    from wallet.payments.base import ProviderUnavailable

    def refuse(self, **kwargs):
        raise ProviderUnavailable("down")

    monkeypatch.setattr(SandboxProvider, "create_checkout", refuse)
    with pytest.raises(Busy):
        services.payment_create(user=user, amount=100_000)
    assert not Payment.objects.exists()


def test_signed_event_with_an_oversized_id_is_400(client, settings):
    event = {
        "id": "e" * 300,
        "type": "payment.succeeded",
        "data": {"reference": "sbx_cs_x", "amount": 1, "currency": "KZT"},
    }
    body = json.dumps(event).encode()
    secret = settings.PAYMENT_SANDBOX_WEBHOOK_SECRET
    response = _post_webhook(
        client, body, {"X-Sandbox-Signature": signature_header(secret, body)}
    )
    assert response.status_code == 400
    assert not PaymentEvent.objects.exists()


# --- limits on starting top-ups ---------------------------------------------


def test_a_sixth_pending_top_up_is_refused_by_default(user):
    for _ in range(5):
        services.payment_create(user=user, amount=100_000)

    with pytest.raises(Conflict) as exc:
        services.payment_create(user=user, amount=100_000)

    assert exc.value.code == "too_many_pending_top_ups"
    assert exc.value.message == (
        "You have 5 top-ups waiting for payment, the most allowed at once. "
        "Complete or cancel one of them (see your recent top-ups) or wait until "
        "the oldest expires, in about 25 hours, then start a new one."
    )
    assert Payment.objects.filter(user=user).count() == 5


def test_the_pending_limit_is_per_user(user, other_user, settings):
    settings.WALLET_TOP_UP_MAX_PENDING = 1
    services.payment_create(user=user, amount=100_000)

    theirs = services.payment_create(user=other_user, amount=100_000)

    assert theirs.status == PaymentStatus.PENDING
    with pytest.raises(Conflict):
        services.payment_create(user=user, amount=100_000)


@pytest.mark.parametrize(
    "finish", ["payment.succeeded", "payment.declined", "payment.expired"]
)
def test_a_paid_declined_or_expired_top_up_frees_its_place(user, settings, finish):
    settings.WALLET_TOP_UP_MAX_PENDING = 2
    first = services.payment_create(user=user, amount=100_000)
    services.payment_create(user=user, amount=100_000)
    with pytest.raises(Conflict):
        services.payment_create(user=user, amount=100_000)

    deliver_sandbox_event(first, finish)
    third = services.payment_create(user=user, amount=100_000)

    assert third.status == PaymentStatus.PENDING
    assert Payment.objects.filter(user=user, status="pending").count() == 2


def test_a_pending_top_up_past_its_timeout_no_longer_counts(user, settings):
    # The hourly job has not marked it expired yet; it is expired all the same.
    settings.WALLET_TOP_UP_MAX_PENDING = 2
    old = services.payment_create(user=user, amount=100_000)
    recent = services.payment_create(user=user, amount=100_000)
    now = timezone.now()
    Payment.objects.filter(pk=old.pk).update(created_at=now - timedelta(hours=25))
    Payment.objects.filter(pk=recent.pk).update(created_at=now - timedelta(hours=24))

    services.payment_create(user=user, amount=100_000)
    with pytest.raises(Conflict) as exc:
        services.payment_create(user=user, amount=100_000)

    # The oldest that counts started 24 hours ago: an hour left.
    assert "the oldest expires, in about 1 hour," in exc.value.message
    assert Payment.objects.filter(user=user, status="pending").count() == 3


def test_an_eleventh_start_within_the_hour_is_rate_limited_by_default(
    user, other_user, rate_limit_clock
):
    for _ in range(10):
        deliver_sandbox_event(services.payment_create(user=user, amount=100_000))

    with pytest.raises(TopUpRateLimited) as exc:
        services.payment_create(user=user, amount=100_000)

    assert (exc.value.status_code, exc.value.code) == (429, "rate_limited")
    assert exc.value.retry_after == 40 * 60  # the window's remaining time
    assert exc.value.message == (
        "You have started too many top-ups in a short time; try again in about "
        "40 minutes."
    )
    assert Payment.objects.filter(user=user).count() == 10
    assert services.payment_create(user=other_user, amount=100_000).is_pending


def test_the_rate_limit_starts_afresh_in_the_next_window(
    user, settings, rate_limit_clock
):
    settings.WALLET_TOP_UP_RATE_LIMIT_STARTS = 1
    deliver_sandbox_event(services.payment_create(user=user, amount=100_000))
    with pytest.raises(TopUpRateLimited):
        services.payment_create(user=user, amount=100_000)

    rate_limit_clock.now += 40 * 60

    assert services.payment_create(user=user, amount=100_000).is_pending


def test_starts_refused_by_the_pending_limit_do_not_count_against_the_rate(
    user, settings, rate_limit_clock
):
    settings.WALLET_TOP_UP_MAX_PENDING = 1
    settings.WALLET_TOP_UP_RATE_LIMIT_STARTS = 2
    first = services.payment_create(user=user, amount=100_000)
    for _ in range(3):
        with pytest.raises(Conflict):
            services.payment_create(user=user, amount=100_000)
    deliver_sandbox_event(first)

    second = services.payment_create(user=user, amount=100_000)
    deliver_sandbox_event(second)
    with pytest.raises(TopUpRateLimited):
        services.payment_create(user=user, amount=100_000)

    assert Payment.objects.filter(user=user).count() == 2


def test_invalid_amounts_do_not_count_against_the_rate(
    user, settings, rate_limit_clock
):
    settings.WALLET_TOP_UP_RATE_LIMIT_STARTS = 1
    for amount in (0, 9_999, "100000"):
        with pytest.raises(ValidationError):
            services.payment_create(user=user, amount=amount)

    assert services.payment_create(user=user, amount=100_000).is_pending


def test_zero_switches_the_limits_off(user, settings):
    settings.WALLET_TOP_UP_MAX_PENDING = 0
    settings.WALLET_TOP_UP_RATE_LIMIT_STARTS = 0

    for _ in range(12):
        services.payment_create(user=user, amount=100_000)

    assert Payment.objects.filter(user=user, status="pending").count() == 12


def test_an_unavailable_cache_lets_the_start_through_and_logs(
    user, monkeypatch, caplog
):
    from redis.exceptions import ConnectionError as RedisConnectionError

    def unreachable(**kwargs):
        raise RedisConnectionError("Connection refused")

    monkeypatch.setattr("wallet.services.payments.rate_limit_hit", unreachable)

    payment = services.payment_create(user=user, amount=100_000)

    assert payment.is_pending
    assert "top-up rate limit not counted" in caplog.text


# --- cancelling a top-up ------------------------------------------------------


def _snapshot(payment):
    payment.refresh_from_db()
    return (payment.status, payment.closed_at, payment.paid_at, payment.updated_at)


def test_payment_cancel_closes_a_pending_top_up_and_credits_nothing(user):
    payment = services.payment_create(user=user, amount=500_000)

    cancelled = services.payment_cancel(user=user, payment_id=payment.pk)

    payment.refresh_from_db()
    assert cancelled.pk == payment.pk
    assert payment.status == PaymentStatus.CANCELLED
    assert payment.closed_at is not None
    assert payment.paid_at is None
    assert _balance(user) == 0
    assert not LedgerTransaction.objects.exists()
    # The user's own action: no notification about it.
    assert not Notification.objects.filter(user=user, kind="wallet").exists()


def test_payment_cancel_of_someone_elses_or_a_missing_top_up_is_not_found(
    user, other_user
):
    theirs = services.payment_create(user=other_user, amount=500_000)
    before = _snapshot(theirs)

    with pytest.raises(NotFound):
        services.payment_cancel(user=user, payment_id=theirs.pk)
    with pytest.raises(NotFound):
        services.payment_cancel(user=user, payment_id=theirs.pk + 1000)

    assert _snapshot(theirs) == before
    assert theirs.status == PaymentStatus.PENDING


@pytest.mark.parametrize(
    ("event_type", "message"),
    [
        (
            "payment.succeeded",
            "This top-up is already paid: the money is in your wallet.",
        ),
        (
            "payment.declined",
            "This top-up was declined; there is nothing to cancel.",
        ),
        ("payment.expired", "This top-up has expired; there is nothing to cancel."),
    ],
)
def test_payment_cancel_refuses_a_top_up_that_no_longer_waits(
    user, event_type, message, django_capture_on_commit_callbacks
):
    payment = services.payment_create(user=user, amount=500_000)
    deliver_sandbox_event(payment, event_type)
    before = _snapshot(payment)
    balance = _balance(user)

    with (
        django_capture_on_commit_callbacks() as callbacks,
        pytest.raises(Conflict) as exc,
    ):
        services.payment_cancel(user=user, payment_id=payment.pk)

    assert (exc.value.code, exc.value.message) == ("top_up_not_pending", message)
    assert _snapshot(payment) == before
    assert _balance(user) == balance
    assert callbacks == []  # the provider is not asked either


def test_cancelling_a_cancelled_top_up_again_is_a_conflict(user):
    # Like the other state changes (archiving an archived listing): a 409.
    payment = services.payment_create(user=user, amount=500_000)
    services.payment_cancel(user=user, payment_id=payment.pk)
    before = _snapshot(payment)

    with pytest.raises(Conflict) as exc:
        services.payment_cancel(user=user, payment_id=payment.pk)

    assert exc.value.message == "This top-up is already cancelled."
    assert _snapshot(payment) == before


def test_cancelling_frees_a_place_under_the_pending_limit(user):
    started = [services.payment_create(user=user, amount=100_000) for _ in range(5)]
    with pytest.raises(Conflict):
        services.payment_create(user=user, amount=100_000)

    services.payment_cancel(user=user, payment_id=started[2].pk)
    sixth = services.payment_create(user=user, amount=100_000)

    assert sixth.status == PaymentStatus.PENDING
    assert Payment.objects.filter(user=user, status="pending").count() == 5


def test_a_paid_event_after_cancelling_still_credits_once(user):
    # The payer finished the checkout before it closed: the provider holds
    # the money, so the wallet gets it (paid wins).
    payment = services.payment_create(user=user, amount=500_000)
    services.payment_cancel(user=user, payment_id=payment.pk)

    assert deliver_sandbox_event(payment) == "credited"
    assert deliver_sandbox_event(payment) == "already_paid"

    payment.refresh_from_db()
    assert payment.status == PaymentStatus.PAID
    assert payment.closed_at is None
    assert _balance(user) == 500_000
    assert LedgerTransaction.objects.count() == 1


@pytest.mark.parametrize("event_type", ["payment.declined", "payment.expired"])
def test_a_declined_or_expired_event_after_cancelling_changes_nothing(user, event_type):
    payment = services.payment_create(user=user, amount=500_000)
    services.payment_cancel(user=user, payment_id=payment.pk)
    before = _snapshot(payment)

    assert deliver_sandbox_event(payment, event_type) == "ignored_cancelled"

    assert _snapshot(payment) == before
    assert payment.status == PaymentStatus.CANCELLED
    assert _balance(user) == 0
    assert not Notification.objects.filter(user=user, kind="wallet").exists()


def test_expiry_job_leaves_cancelled_top_ups_alone(user):
    payment = services.payment_create(user=user, amount=100_000)
    services.payment_cancel(user=user, payment_id=payment.pk)
    before = _snapshot(payment)

    assert services.payment_expire_stale(now=timezone.now() + timedelta(days=2)) == 0

    assert _snapshot(payment) == before
    assert payment.status == PaymentStatus.CANCELLED


def test_cancel_asks_the_provider_to_expire_the_checkout_after_commit(
    user, monkeypatch, django_capture_on_commit_callbacks
):
    asked = []
    monkeypatch.setattr(
        SandboxProvider,
        "expire_checkout",
        lambda self, *, payment: asked.append((payment.pk, payment.status)),
    )
    payment = services.payment_create(user=user, amount=100_000)

    with django_capture_on_commit_callbacks() as callbacks:
        services.payment_cancel(user=user, payment_id=payment.pk)
    assert asked == []  # not while the transaction is open
    for callback in callbacks:
        callback()

    assert asked == [(payment.pk, PaymentStatus.CANCELLED)]


def test_a_checkout_paid_before_the_job_runs_is_not_expired(user, monkeypatch):
    asked = []
    monkeypatch.setattr(
        SandboxProvider,
        "expire_checkout",
        lambda self, *, payment: asked.append(payment.pk),
    )
    payment = services.payment_create(user=user, amount=100_000)
    services.payment_cancel(user=user, payment_id=payment.pk)
    deliver_sandbox_event(payment)

    assert services.payment_checkout_expire(payment_id=payment.pk) is False
    assert asked == []


def test_a_provider_that_cannot_expire_the_checkout_leaves_the_cancel_standing(
    user, monkeypatch, caplog, django_capture_on_commit_callbacks
):
    def unreachable(self, *, payment):
        raise ProviderUnavailable("down")

    monkeypatch.setattr(SandboxProvider, "expire_checkout", unreachable)
    payment = services.payment_create(user=user, amount=100_000)

    with django_capture_on_commit_callbacks(execute=True):
        services.payment_cancel(user=user, payment_id=payment.pk)

    payment.refresh_from_db()
    assert payment.status == PaymentStatus.CANCELLED
    assert f"payment {payment.pk}: checkout not expired: down" in caplog.text
