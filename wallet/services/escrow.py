"""Escrow for safe deals: hold a buyer's money, then capture it for the seller
(minus an optional platform fee) or release it back to the buyer, exactly once.

Each call is its own durable transaction. Callers (the deals app) pass their
own `reference` ("deal:12"); holding twice with the same reference returns the
first hold, so a retried step never holds twice.
"""

from django.db import IntegrityError, transaction
from django.utils import timezone

from core.errors import Conflict, ValidationError
from wallet.models import Hold, HoldStatus, SystemAccount, TransactionKind
from wallet.services.ledger import (
    check_amount,
    finish,
    lock_wallets,
    money_transaction,
    post_transaction,
    retry_when_busy,
    system_wallet,
    wallet_open,
)


def _check_reference(reference: str) -> str:
    reference = (reference or "").strip()
    if not reference or len(reference) > 64:
        raise ValidationError("A hold needs a reference of 1-64 characters.")
    return reference


@retry_when_busy
def escrow_hold(
    *, user, amount: int, reference: str, description: str = "", idempotency=None
) -> Hold:
    """Move `amount` from the user's wallet into escrow under a new hold."""
    check_amount(amount)
    reference = _check_reference(reference)
    buyer = wallet_open(user=user)
    escrow = system_wallet(SystemAccount.ESCROW, buyer.currency)
    with money_transaction(idempotency):
        # The buyer's lock first: their holds queue here, so a retried hold
        # with the same reference finds the first one.
        locked = lock_wallets(buyer, escrow)
        buyer_w, escrow_w = locked[buyer.pk], locked[escrow.pk]
        existing = Hold.objects.filter(reference=reference).first()
        if existing is not None:
            if existing.wallet_id != buyer.pk or existing.amount != amount:
                raise Conflict(
                    f"A different hold already uses the reference {reference}.",
                    code="hold_exists",
                )
            return finish(idempotency, existing)
        try:
            with transaction.atomic():
                hold = Hold.objects.create(
                    wallet=buyer_w,
                    amount=amount,
                    currency=buyer_w.currency,
                    reference=reference,
                    description=description[:255],
                )
        except IntegrityError:
            # Another buyer's hold took the reference a moment ago.
            raise Conflict(
                f"A different hold already uses the reference {reference}.",
                code="hold_exists",
            ) from None
        post_transaction(
            kind=TransactionKind.ESCROW_HOLD,
            legs=[(buyer_w, -amount), (escrow_w, amount)],
            description=description or f"Held for {reference}",
            reference=f"hold:{hold.pk}:hold",
        )
        buyer_w.held += amount
        buyer_w.save(update_fields=["held", "updated_at"])
        return finish(idempotency, hold)


def _lock_open_hold(hold_id: int) -> Hold:
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("Lock holds inside the money transaction.")
    hold = Hold.objects.select_for_update().filter(pk=hold_id).first()
    if hold is None:
        raise ValidationError("No such hold.", field="hold")
    if hold.status != HoldStatus.HELD:
        raise Conflict(
            f"This hold was already {hold.get_status_display().lower()}.",
            code="hold_settled",
        )
    return hold


@retry_when_busy
def escrow_capture(*, hold: Hold, seller, fee: int = 0, idempotency=None) -> Hold:
    """Pay a held amount out of escrow to the seller, minus `fee` to the
    platform's fee account."""
    if isinstance(fee, bool) or not isinstance(fee, int) or fee < 0:
        raise ValidationError("The fee is a whole, non-negative amount.", field="fee")
    if fee > hold.amount:
        raise ValidationError("The fee cannot exceed the held amount.", field="fee")
    seller_wallet = wallet_open(user=seller, currency=hold.currency)
    escrow = system_wallet(SystemAccount.ESCROW, hold.currency)
    fees = system_wallet(SystemAccount.PLATFORM_FEES, hold.currency)
    with money_transaction(idempotency):
        hold = _lock_open_hold(hold.pk)
        locked = lock_wallets(hold.wallet_id, seller_wallet, escrow, fees)
        buyer_w = locked[hold.wallet_id]
        post_transaction(
            kind=TransactionKind.ESCROW_CAPTURE,
            legs=[
                (locked[escrow.pk], -hold.amount),
                (locked[seller_wallet.pk], hold.amount - fee),
                (locked[fees.pk], fee),
            ],
            description=hold.description or f"Paid out for {hold.reference}",
            reference=f"hold:{hold.pk}:settle",
        )
        # The seller may be the buyer (a test deal with oneself): same row.
        buyer_w.held -= hold.amount
        buyer_w.save(update_fields=["held", "updated_at"])
        hold.status = HoldStatus.CAPTURED
        hold.beneficiary = locked[seller_wallet.pk]
        hold.fee = fee
        hold.settled_at = timezone.now()
        hold.save(update_fields=["status", "beneficiary", "fee", "settled_at"])
        return finish(idempotency, hold)


@retry_when_busy
def escrow_release(*, hold: Hold, idempotency=None) -> Hold:
    """Return a held amount from escrow to the buyer's wallet."""
    escrow = system_wallet(SystemAccount.ESCROW, hold.currency)
    with money_transaction(idempotency):
        hold = _lock_open_hold(hold.pk)
        locked = lock_wallets(hold.wallet_id, escrow)
        buyer_w = locked[hold.wallet_id]
        post_transaction(
            kind=TransactionKind.ESCROW_RELEASE,
            legs=[(locked[escrow.pk], -hold.amount), (buyer_w, hold.amount)],
            description=hold.description or f"Returned for {hold.reference}",
            reference=f"hold:{hold.pk}:settle",
        )
        buyer_w.held -= hold.amount
        buyer_w.save(update_fields=["held", "updated_at"])
        hold.status = HoldStatus.RELEASED
        hold.settled_at = timezone.now()
        hold.save(update_fields=["status", "settled_at"])
        return finish(idempotency, hold)
