"""Jobs of the wallet. The periodic ones each call an idempotent service that
also has a management command (for cron where beat does not run); the others
are queued by services after their commit."""

import logging

from celery import shared_task

from wallet import services
from wallet.reconcile import ledger_reconcile

logger = logging.getLogger(__name__)


@shared_task
def expire_promotions() -> int:
    return services.promotion_expire_ended()


@shared_task
def expire_stale_payments() -> int:
    return services.payment_expire_stale()


@shared_task(ignore_result=True)
def expire_cancelled_checkout(payment_id: int) -> bool:
    """Close a cancelled top-up's checkout at the provider (queued on commit
    by `payment_cancel`)."""
    return services.payment_checkout_expire(payment_id=payment_id)


@shared_task
def purge_idempotency_keys() -> int:
    return services.idempotency_keys_purge()


@shared_task
def reconcile_ledger() -> int:
    """Fail loudly (error log, failed task) when the ledger does not add up."""
    report = ledger_reconcile()
    if report.ok:
        logger.info("ledger reconciles: %s entries", report.entries)
        return 0
    for problem in report.problems:
        logger.critical("LEDGER DIFFERENCE: %s", problem)
    raise RuntimeError(f"Ledger does not reconcile: {len(report.problems)} problem(s)")
