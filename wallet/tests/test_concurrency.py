"""Money under real concurrency: threads, each with its own connection.

On PostgreSQL (marker `services`) the row locks decide: exactly as many
purchases succeed as the balance affords. On SQLite (pass 1) writers queue on
the database lock; a request that still finds it busy gets a 503 with
Retry-After, never a 500, and a client that retries ends in the same state.
"""

import threading
import time
from collections import Counter

import pytest
from django.db import connection, connections
from rest_framework.test import APIClient

from core.errors import Conflict
from listings.models import Listing
from listings.tests.factories import ListingFactory
from wallet import services
from wallet.models import LedgerEntry, Payment, PromotionPurchase, Wallet
from wallet.tests.helpers import deliver_sandbox_event

THREADS = 50
PRICE = 150_000
BALANCE = 1_000_000  # affords floor(1_000_000 / 150_000) == 6


def run_in_threads(count, work):
    """Start `count` threads at the same moment; return their results."""
    barrier = threading.Barrier(count)
    results = [None] * count

    def target(index):
        try:
            barrier.wait()
            results[index] = work(index)
        except Exception as exc:  # the result under test
            results[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=target, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def assert_ledger_adds_up(user, expected_balance):
    wallet = Wallet.objects.get(user=user)
    entries = LedgerEntry.objects.filter(wallet=wallet)
    assert wallet.balance == expected_balance
    assert wallet.balance >= 0
    assert sum(entries.values_list("amount", flat=True)) == wallet.balance
    assert sum(LedgerEntry.objects.values_list("amount", flat=True)) == 0


def _seller_with_listings(fund, count):
    from accounts.tests.factories import UserFactory

    user = UserFactory()
    fund(user, BALANCE)
    listings = [ListingFactory(owner=user) for _ in range(count)]
    return user, listings


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_fifty_concurrent_purchases_on_postgres_exactly_floor_succeed(fund):
    from wallet.tests.factories import PromotionProductFactory

    PromotionProductFactory(code="featured-7", kind="featured", price=PRICE)
    user, listings = _seller_with_listings(fund, THREADS)

    results = run_in_threads(
        THREADS,
        lambda i: services.promotion_purchase(
            user=user, listing_id=listings[i].pk, product_code="featured-7"
        ),
    )

    succeeded = [r for r in results if isinstance(r, PromotionPurchase)]
    refused = [r for r in results if isinstance(r, Conflict)]
    assert len(succeeded) == BALANCE // PRICE == 6
    assert len(refused) == THREADS - 6
    assert {r.code for r in refused} == {"insufficient_funds"}
    assert_ledger_adds_up(user, BALANCE - 6 * PRICE)
    assert Listing.objects.filter(featured_until__isnull=False).count() == 6


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_twenty_identical_requests_at_once_pay_once_and_answer_alike(fund):
    from wallet.tests.factories import PromotionProductFactory

    PromotionProductFactory(code="featured-7", kind="featured", price=PRICE)
    user, [listing] = _seller_with_listings(fund, 1)

    def buy(_):
        client = APIClient()
        client.force_authenticate(user)
        response = client.post(
            f"/api/v1/listings/{listing.pk}/promotions/",
            {"product": "featured-7"},
            format="json",
            HTTP_IDEMPOTENCY_KEY="same-key-20",
        )
        return (
            response.status_code,
            response.json(),
            response.headers.get("Idempotent-Replayed"),
        )

    results = run_in_threads(20, buy)

    assert all(isinstance(r, tuple) for r in results), results
    assert {status for status, _, _ in results} == {201}
    assert len({repr(body) for _, body, _ in results}) == 1
    assert (
        sorted(str(replayed) for _, _, replayed in results) == ["None"] + ["true"] * 19
    )
    assert PromotionPurchase.objects.count() == 1
    assert_ledger_adds_up(user, BALANCE - PRICE)


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_concurrent_duplicate_webhooks_credit_once():
    from accounts.tests.factories import UserFactory

    user = UserFactory()
    payment = services.payment_create(user=user, amount=500_000)
    from wallet.payments.sandbox import SandboxProvider

    body, headers = SandboxProvider().build_event(
        payment=payment, event_type="payment.succeeded"
    )

    results = run_in_threads(
        10,
        lambda _: services.payment_webhook_receive(
            provider_name="sandbox", payload=body, headers=headers
        ),
    )
    paid_again = deliver_sandbox_event(payment)

    assert Counter(results) == Counter({"credited": 1, "duplicate": 9})
    assert paid_again == "already_paid"
    assert Payment.objects.get().status == "paid"
    assert_ledger_adds_up(user, 500_000)


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_concurrent_top_up_starts_take_the_last_pending_place_once(
    settings, monkeypatch
):
    from accounts.tests.factories import UserFactory
    from wallet.payments.sandbox import SandboxProvider

    settings.WALLET_TOP_UP_MAX_PENDING = 3
    settings.WALLET_TOP_UP_RATE_LIMIT_STARTS = 0
    user = UserFactory()
    for _ in range(2):
        services.payment_create(user=user, amount=100_000)
    open_checkout = SandboxProvider.create_checkout

    def slow_checkout(self, **kwargs):
        # A provider's round trip: without the wallet lock, every thread has
        # counted the pending top-ups before the first one commits.
        time.sleep(0.3)
        return open_checkout(self, **kwargs)

    monkeypatch.setattr(SandboxProvider, "create_checkout", slow_checkout)

    results = run_in_threads(
        10, lambda _: services.payment_create(user=user, amount=100_000)
    )

    started = [r for r in results if isinstance(r, Payment)]
    refused = [r for r in results if isinstance(r, Conflict)]
    assert (len(started), len(refused)) == (1, 9), results
    assert {r.code for r in refused} == {"too_many_pending_top_ups"}
    assert Payment.objects.filter(user=user, status="pending").count() == 3


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_concurrent_cancels_of_one_top_up_succeed_once():
    from accounts.tests.factories import UserFactory

    user = UserFactory()
    payment = services.payment_create(user=user, amount=100_000)

    results = run_in_threads(
        10, lambda _: services.payment_cancel(user=user, payment_id=payment.pk)
    )

    cancelled = [r for r in results if isinstance(r, Payment)]
    refused = [r for r in results if isinstance(r, Conflict)]
    assert (len(cancelled), len(refused)) == (1, 9), results
    assert {r.message for r in refused} == {"This top-up is already cancelled."}
    assert Payment.objects.get().status == "cancelled"


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_cancels_racing_a_paid_webhook_end_paid_and_credited_once():
    from accounts.tests.factories import UserFactory
    from wallet.payments.sandbox import SandboxProvider

    user = UserFactory()
    payment = services.payment_create(user=user, amount=500_000)
    body, headers = SandboxProvider().build_event(
        payment=payment, event_type="payment.succeeded"
    )

    def cancel_or_pay(index):
        if index % 2:
            return services.payment_webhook_receive(
                provider_name="sandbox", payload=body, headers=headers
            )
        return services.payment_cancel(user=user, payment_id=payment.pk)

    results = run_in_threads(10, cancel_or_pay)

    # Whatever the order: one cancel at most got through (the row lock
    # serialises them), the rest were refused, and paid won.
    webhooks = Counter(results[1::2])
    cancels = results[0::2]
    cancelled = [r for r in cancels if isinstance(r, Payment)]
    refused = [r for r in cancels if isinstance(r, Conflict)]
    assert webhooks == Counter({"credited": 1, "duplicate": 4})
    assert len(cancelled) <= 1 and len(cancelled) + len(refused) == 5, cancels
    assert {r.code for r in refused} == {"top_up_not_pending"}
    assert Payment.objects.get().status == "paid"
    assert_ledger_adds_up(user, 500_000)


@pytest.mark.skipif(
    connection.vendor != "sqlite", reason="the SQLite variant of the 50-thread test"
)
@pytest.mark.django_db(transaction=True)
def test_fifty_concurrent_purchases_on_sqlite_never_500(fund):
    from wallet.tests.factories import PromotionProductFactory

    PromotionProductFactory(code="featured-7", kind="featured", price=PRICE)
    user, listings = _seller_with_listings(fund, THREADS)
    seen = Counter()
    lock = threading.Lock()

    def buy(i):
        client = APIClient()
        client.force_authenticate(user)
        for _attempt in range(60):
            response = client.post(
                f"/api/v1/listings/{listings[i].pk}/promotions/",
                {"product": "featured-7"},
                format="json",
                HTTP_IDEMPOTENCY_KEY=f"purchase-{i}",
            )
            with lock:
                seen[response.status_code] += 1
            if response.status_code != 503:
                return response.status_code, response.json().get("code")
            assert response.headers["Retry-After"] == "1"
            time.sleep(0.05)  # a polite client, faster than Retry-After
        return 503, "gave up"

    results = run_in_threads(THREADS, buy)

    assert all(isinstance(r, tuple) for r in results), results
    assert set(seen) <= {201, 409, 503}, seen
    outcomes = Counter(results)
    assert outcomes == Counter(
        {(201, None): 6, (409, "insufficient_funds"): THREADS - 6}
    )
    assert PromotionPurchase.objects.count() == 6
    assert_ledger_adds_up(user, BALANCE - 6 * PRICE)
