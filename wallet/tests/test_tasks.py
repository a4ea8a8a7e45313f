from datetime import timedelta

import pytest
from django.utils import timezone

from listings.tests.factories import ListingFactory
from wallet import services, tasks
from wallet.models import Payment, PaymentStatus, PromotionPurchase, PromotionStatus

pytestmark = pytest.mark.django_db


def test_beat_entries_point_at_registered_wallet_tasks():
    from marketplace.celery import app

    app.loader.import_default_modules()
    wallet_entries = {
        name: entry["task"]
        for name, entry in app.conf.beat_schedule.items()
        if name.startswith("wallet-")
    }
    assert set(wallet_entries.values()) == {
        "wallet.tasks.expire_promotions",
        "wallet.tasks.expire_stale_payments",
        "wallet.tasks.purge_idempotency_keys",
        "wallet.tasks.reconcile_ledger",
    }
    assert all(task in app.tasks for task in wallet_entries.values())


def test_tasks_run_their_services(user, fund, featured):
    fund(user, 500_000)
    purchase = services.promotion_purchase(
        user=user, listing_id=ListingFactory(owner=user).pk, product_code="featured-7"
    )
    stale = services.payment_create(user=user, amount=100_000)
    past = timezone.now() - timedelta(days=30)
    PromotionPurchase.objects.filter(pk=purchase.pk).update(ends_at=past)
    Payment.objects.filter(pk=stale.pk).update(created_at=past)

    assert tasks.expire_promotions.apply().get() == 1
    assert tasks.expire_stale_payments.apply().get() == 1
    assert tasks.purge_idempotency_keys.apply().get() == 0
    assert tasks.reconcile_ledger.apply().get() == 0

    purchase.refresh_from_db()
    stale.refresh_from_db()
    assert purchase.status == PromotionStatus.ENDED
    assert stale.status == PaymentStatus.EXPIRED


def test_the_checkout_expiry_job_runs_its_service(user):
    pending = services.payment_create(user=user, amount=100_000)
    cancelled = services.payment_create(user=user, amount=100_000)
    services.payment_cancel(user=user, payment_id=cancelled.pk)

    assert tasks.expire_cancelled_checkout.apply(args=[cancelled.pk]).get() is True
    # Only cancelled top-ups have a checkout to close.
    assert tasks.expire_cancelled_checkout.apply(args=[pending.pk]).get() is False
