"""The ledger's core: money transactions, wallet locks, balanced postings.

Every money service runs `with money_transaction(...)`: one durable atomic
block (nobody can wrap it by accident), claiming its Idempotency-Key first,
then locking the wallets it touches in primary-key order, then posting a
balanced ledger transaction that moves their balances.
"""

import functools
import logging
import random
import time
from collections.abc import Iterable
from contextlib import contextmanager

from django.conf import settings
from django.db import OperationalError, transaction
from django.utils import timezone

from accounts.services import notification_send
from core.errors import Busy, Conflict, ValidationError
from core.services import audit_log_record
from wallet import money
from wallet.idempotency import IdempotencyClaim
from wallet.models import (
    LedgerEntry,
    LedgerTransaction,
    SystemAccount,
    TransactionKind,
    Wallet,
    WalletKind,
)

logger = logging.getLogger(__name__)

# How long a money service keeps retrying a transaction that found SQLite's
# database locked. A file database already waits `timeout` (20 s) inside
# SQLite; shared-cache databases fail at once and need these retries.
BUSY_RETRY_SECONDS = 8.0


def _is_busy(exc: OperationalError) -> bool:
    message = str(exc).lower()
    return "database is locked" in message or "database table is locked" in message


def retry_when_busy(func):
    """Re-run a whole money service when SQLite reports a locked database;
    after BUSY_RETRY_SECONDS give up with `Busy` (503 with Retry-After)."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        deadline = time.monotonic() + BUSY_RETRY_SECONDS
        delay = 0.01
        while True:
            try:
                return func(*args, **kwargs)
            except OperationalError as exc:
                if not _is_busy(exc) or transaction.get_connection().in_atomic_block:
                    raise
                if time.monotonic() + delay > deadline:
                    logger.warning("%s: database busy, giving up", func.__name__)
                    raise Busy(
                        "The database is busy; nothing was changed. Try again."
                    ) from exc
                time.sleep(delay * (0.5 + random.random()))
                delay = min(delay * 2, 0.4)

    return wrapper


@contextmanager
def money_transaction(idempotency: IdempotencyClaim | None = None):
    """One durable transaction for one money movement; claims the request's
    Idempotency-Key first (raising IdempotentReplay for a repeat)."""
    with transaction.atomic(durable=True):
        if idempotency is not None:
            idempotency.acquire()
        yield


def finish(idempotency: IdempotencyClaim | None, result):
    """Store the answer for an idempotent request; returns `result`."""
    if idempotency is not None:
        idempotency.complete(result)
    return result


def check_amount(amount, *, field: str = "amount") -> int:
    """An amount in minor units: a positive integer, never a float or bool."""
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise ValidationError(
            "Amounts are whole numbers of minor units.", field=field, code="invalid"
        )
    if amount <= 0:
        raise ValidationError("The amount must be positive.", field=field)
    return amount


def wallet_open(*, user, currency: str | None = None) -> Wallet:
    """Return the user's wallet in `currency` (site currency), creating it on
    first use. Safe under concurrency (unique per user and currency)."""
    currency = currency or settings.SITE_CURRENCY
    wallet, _ = Wallet.objects.get_or_create(
        kind=WalletKind.USER, user=user, currency=currency
    )
    return wallet


def wallet_open_for_new_user(*, user) -> None:
    """Give a just-created user an empty wallet in the site currency (a single
    INSERT that ignores an existing one)."""
    Wallet.objects.bulk_create(
        [Wallet(kind=WalletKind.USER, user=user, currency=settings.SITE_CURRENCY)],
        ignore_conflicts=True,
    )


def system_wallet(account: str, currency: str | None = None) -> Wallet:
    """The system account `account` in `currency`, created on first use."""
    currency = currency or settings.SITE_CURRENCY
    wallet, _ = Wallet.objects.get_or_create(
        kind=WalletKind.SYSTEM, system_account=account, currency=currency
    )
    return wallet


def lock_wallets(*wallets: Wallet | int) -> dict[int, Wallet]:
    """Lock the wallets' rows (given as wallets or pks) in primary-key order,
    so two movements never wait on each other crosswise, and return fresh
    copies by pk.

    Must run inside the money transaction.
    """
    pks = sorted({getattr(w, "pk", w) for w in wallets})
    locked = Wallet.objects.select_for_update().filter(pk__in=pks).order_by("pk")
    return {w.pk: w for w in locked}


def post_transaction(
    *,
    kind: str,
    legs: Iterable[tuple[Wallet, int]],
    description: str,
    reference: str = "",
    created_by=None,
) -> LedgerTransaction:
    """Write a balanced ledger transaction and move the wallets' balances.

    Every wallet in `legs` must be a copy returned by `lock_wallets` in the
    running transaction. Refuses (Conflict) to take a user wallet below zero.
    """
    legs = [(w, a) for w, a in legs if a != 0]
    if len(legs) < 2:
        raise ValueError("A ledger transaction needs at least two entries.")
    if sum(a for _, a in legs) != 0:
        raise ValueError("A ledger transaction's entries must sum to zero.")
    currencies = {w.currency for w, _ in legs}
    if len(currencies) != 1:
        raise ValueError("A ledger transaction moves one currency.")
    now = timezone.now()
    txn = LedgerTransaction.objects.create(
        kind=kind,
        currency=currencies.pop(),
        description=description[:255],
        reference=reference,
        created_by=created_by,
    )
    entries = []
    for wallet, amount in legs:
        if wallet.kind == WalletKind.USER and wallet.balance + amount < 0:
            raise Conflict(
                "Not enough money in the wallet: "
                f"{money.format_money(wallet.balance, wallet.currency)} available, "
                f"{money.format_money(-amount, wallet.currency)} needed.",
                code="insufficient_funds",
            )
        wallet.balance += amount
        wallet.updated_at = now
        wallet.save(update_fields=["balance", "updated_at"])
        entries.append(
            LedgerEntry(
                transaction=txn,
                wallet=wallet,
                amount=amount,
                balance_after=wallet.balance,
                created_at=now,
            )
        )
    LedgerEntry.objects.bulk_create(entries)
    return txn


@retry_when_busy
def wallet_adjust(
    *, wallet: Wallet, amount: int, reason: str, actor, idempotency=None
) -> LedgerTransaction:
    """Credit (amount > 0) or debit (amount < 0) a user's wallet by hand, with
    a mandatory reason, against the adjustments account; audited."""
    if isinstance(amount, bool) or not isinstance(amount, int) or amount == 0:
        raise ValidationError(
            "The adjustment is a non-zero whole number of minor units.",
            field="amount",
        )
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError("Say why the balance is adjusted.", field="reason")
    if wallet.kind != WalletKind.USER:
        raise ValidationError("Only user wallets can be adjusted.")
    if actor is None or not getattr(actor, "pk", None):
        raise ValidationError("An adjustment needs the moderator who makes it.")
    counter = system_wallet(SystemAccount.ADJUSTMENTS, wallet.currency)
    with money_transaction(idempotency):
        locked = lock_wallets(wallet, counter)
        target, other = locked[wallet.pk], locked[counter.pk]
        txn = post_transaction(
            kind=TransactionKind.ADJUSTMENT,
            legs=[(target, amount), (other, -amount)],
            description=f"Adjustment: {reason}",
            created_by=actor,
        )
        audit_log_record(
            actor=actor,
            action="wallet.adjust",
            target=target,
            reason=reason,
            data={
                "amount": amount,
                "currency": target.currency,
                "transaction": txn.pk,
                "balance_after": target.balance,
            },
        )
        notification_send(
            user=target.user,
            kind="wallet",
            title=(
                "Your wallet balance was adjusted by "
                f"{money.format_money(amount, target.currency, signed=True)}"
            ),
            body=reason,
            url="/wallet/",
        )
        return finish(idempotency, txn)
