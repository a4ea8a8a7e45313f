"""Top-ups: a pending payment, the provider's checkout, the webhook that
credits the wallet once, and the owner's cancel while it waits."""

import logging
import math
from collections.abc import Mapping
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from redis.exceptions import RedisError

from accounts.services import notification_send
from core.errors import Busy, Conflict, NotFound, RateLimited, ValidationError
from core.ratelimit import rate_limit_hit
from wallet import money
from wallet.models import (
    Payment,
    PaymentEvent,
    PaymentStatus,
    SystemAccount,
    TransactionKind,
)
from wallet.payments import get_provider
from wallet.payments.base import (
    EventOutcome,
    ProviderEvent,
    ProviderUnavailable,
    WebhookRejected,
)
from wallet.selectors import access_payment
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

logger = logging.getLogger(__name__)


def check_top_up_amount(amount) -> int:
    """A top-up amount in minor units, within the site's bounds."""
    check_amount(amount)
    low, high = settings.WALLET_TOP_UP_MIN, settings.WALLET_TOP_UP_MAX
    if amount < low or amount > high:
        raise ValidationError(
            f"Top up between {money.format_money(low)} and {money.format_money(high)}.",
            field="amount",
            code="amount_out_of_range",
        )
    return amount


class TopUpRateLimited(RateLimited):
    """Too many top-ups started; `retry_after` is the wait in seconds."""


def _wait_in_words(seconds: float) -> str:
    """A wait for people, rounded up: "1 minute", "40 minutes", "3 hours"."""
    minutes = max(1, math.ceil(seconds / 60))
    if minutes < 60:
        return f"{minutes} minute{'s' if minutes != 1 else ''}"
    hours = math.ceil(minutes / 60)
    return f"{hours} hour{'s' if hours != 1 else ''}"


def _check_pending_limit(*, user) -> None:
    """Refuse (Conflict) a new top-up while WALLET_TOP_UP_MAX_PENDING of the
    user's top-ups wait for payment.

    Must hold the lock on the user's wallet row: it serialises the user's
    starts, so two at once cannot both take the last free place.
    """
    limit = settings.WALLET_TOP_UP_MAX_PENDING
    if limit <= 0:
        return
    now = timezone.now()
    timeout = timedelta(hours=settings.PAYMENT_PENDING_TIMEOUT_HOURS)
    # Past the timeout a payment is expired, whether or not the hourly job
    # has marked it yet.
    waiting = Payment.objects.filter(
        user=user, status=PaymentStatus.PENDING, created_at__gt=now - timeout
    ).order_by("created_at")
    started = list(waiting.values_list("created_at", flat=True)[:limit])
    if len(started) < limit:
        return
    first_expiry = started[0] + timeout
    raise Conflict(
        f"You have {limit} top-up{'s' if limit != 1 else ''} waiting for "
        "payment, the most allowed at "
        "once. Complete or cancel one of them (see your recent top-ups) or wait "
        "until the oldest expires, in about "
        f"{_wait_in_words((first_expiry - now).total_seconds())}, then start a "
        "new one.",
        code="too_many_pending_top_ups",
    )


def _count_start(*, user) -> None:
    """Count a top-up start against WALLET_TOP_UP_RATE_LIMIT_STARTS per
    WALLET_TOP_UP_RATE_LIMIT_SECONDS; raise TopUpRateLimited past it."""
    window = settings.WALLET_TOP_UP_RATE_LIMIT_SECONDS
    try:
        rate_limit_hit(
            key=f"wallet-top-up:{user.pk}",
            limit=settings.WALLET_TOP_UP_RATE_LIMIT_STARTS,
            window_seconds=window,
        )
    except RateLimited as exc:
        raise TopUpRateLimited(
            "You have started too many top-ups in a short time; try again in "
            f"about {_wait_in_words(exc.retry_after)}.",
            retry_after=exc.retry_after,
        ) from None
    except RedisError as exc:
        # Fail open: the pending limit, kept by the database, still bounds the
        # checkouts a user can open while the cache is away.
        logger.warning("top-up rate limit not counted, cache unavailable: %s", exc)


@retry_when_busy
def payment_create(*, user, amount: int, idempotency=None) -> Payment:
    """Start a top-up: a pending payment and the provider's checkout for it.
    Refused while the user has too many waiting (Conflict) or has started too
    many lately (TopUpRateLimited, 429)."""
    check_top_up_amount(amount)
    provider = get_provider()
    wallet = wallet_open(user=user)
    with money_transaction(idempotency):
        # After the Idempotency-Key's claim: a replayed request answers from
        # the stored response and neither counts nor is refused.
        lock_wallets(wallet)
        _check_pending_limit(user=user)
        # Starts refused as pending-limit conflicts do not count; starts the
        # provider then refuses do (each was a call to the provider).
        _count_start(user=user)
        payment = Payment.objects.create(
            user=user,
            provider=provider.name,
            amount=amount,
            currency=wallet.currency,
        )
        # Inside the transaction on purpose: if the provider refuses, no
        # orphan pending payment is left, and a duplicate request with the
        # same key waits for this one instead of opening a second checkout.
        try:
            session = provider.create_checkout(
                payment=payment,
                return_url=f"{settings.SITE_URL}{payment.get_absolute_url()}",
            )
        except ProviderUnavailable as exc:
            logger.warning("payment provider refused checkout: %s", exc)
            raise Busy(
                "The payment provider is not available right now; try again.",
                code="provider_unavailable",
            ) from exc
        payment.provider_reference = session.reference
        payment.checkout_url = session.url
        payment.save(update_fields=["provider_reference", "checkout_url"])
        return finish(idempotency, payment)


# Why a top-up that no longer waits for payment cannot be cancelled.
_NOT_CANCELLABLE = {
    PaymentStatus.PAID: "This top-up is already paid: the money is in your wallet.",
    PaymentStatus.DECLINED: "This top-up was declined; there is nothing to cancel.",
    PaymentStatus.EXPIRED: "This top-up has expired; there is nothing to cancel.",
    PaymentStatus.CANCELLED: "This top-up is already cancelled.",
}


@retry_when_busy
def payment_cancel(*, user, payment_id: int) -> Payment:
    """Cancel the user's own top-up while it waits for payment: NotFound for
    anyone else's, Conflict once it is paid, declined, expired or cancelled.
    The provider is asked to close its checkout after the commit, in a
    background job (`payment_checkout_expire`)."""
    with transaction.atomic(durable=True):
        payment = access_payment(user=user, pk=payment_id, for_update=True)
        if not payment.is_pending:
            raise Conflict(_NOT_CANCELLABLE[payment.status], code="top_up_not_pending")
        payment.status = PaymentStatus.CANCELLED
        payment.closed_at = timezone.now()
        payment.save(update_fields=["status", "closed_at", "updated_at"])
        # After the commit, in a background job: the row decides, so a slow or
        # failing provider neither holds the row lock, nor keeps the user
        # waiting, nor undoes the cancel. A checkout left open closes at its
        # own expiry; if it is paid meanwhile, the "paid" webhook still credits
        # the wallet (paid wins).
        transaction.on_commit(partial(_queue_checkout_expiry, payment.pk), robust=True)
    return payment


def _queue_checkout_expiry(payment_id: int) -> None:
    from wallet import tasks  # tasks import the services

    tasks.expire_cancelled_checkout.delay(payment_id)


def payment_checkout_expire(*, payment_id: int) -> bool:
    """Ask the provider to close a cancelled top-up's checkout (the background
    job `payment_cancel` queues); False when there is nothing to ask. A
    provider failure is logged: the checkout then closes at its own expiry."""
    payment = Payment.objects.filter(
        pk=payment_id, status=PaymentStatus.CANCELLED
    ).first()
    if payment is None:
        # Paid since (the payer finished first): its checkout is complete.
        return False
    try:
        provider = get_provider(payment.provider)
    except NotFound:
        # Started with a provider switched off since: nothing to reach.
        logger.info(
            "payment %s: provider %s not enabled, checkout not expired",
            payment.pk,
            payment.provider,
        )
        return False
    try:
        provider.expire_checkout(payment=payment)
    except ProviderUnavailable as exc:
        logger.warning("payment %s: checkout not expired: %s", payment.pk, exc)
        return False
    return True


def payment_webhook_receive(
    *, provider_name: str, payload: bytes, headers: Mapping[str, str]
) -> str:
    """Verify a provider's webhook delivery and apply its event; returns the
    outcome ("credited", "duplicate", ...). Raises WebhookRejected (400)."""
    provider = get_provider(provider_name)
    event = provider.parse_webhook(payload=payload, headers=headers)
    if not event.event_id or len(event.event_id) > 255:
        raise WebhookRejected("The event has no usable id.")
    return wallet_top_up(provider_name=provider.name, event=event)


class _AlreadyApplied(Exception):
    pass


def _find_payment(provider_name: str, event: ProviderEvent) -> Payment | None:
    qs = Payment.objects.select_for_update().filter(provider=provider_name)
    if event.reference:
        payment = qs.filter(provider_reference=event.reference).first()
        if payment is not None:
            return payment
    if event.payment_id is not None:
        return qs.filter(pk=event.payment_id).first()
    return None


@retry_when_busy
def wallet_top_up(*, provider_name: str, event: ProviderEvent) -> str:
    """Apply a verified provider event to its payment: credit the user's wallet
    once when it says paid, whatever the number and order of deliveries."""
    try:
        with money_transaction():
            payment = _find_payment(provider_name, event)
            if PaymentEvent.objects.filter(
                provider=provider_name, event_id=event.event_id
            ).exists():
                return "duplicate"
            outcome = _apply_event(payment, event)
            try:
                with transaction.atomic():
                    PaymentEvent.objects.create(
                        provider=provider_name,
                        event_id=event.event_id,
                        event_type=event.event_type[:100],
                        payment=payment,
                        outcome=outcome,
                        payload=event.payload,
                    )
            except IntegrityError:
                # The same event arrived concurrently for an unknown payment
                # (no row lock to serialise on): undo and report a duplicate.
                raise _AlreadyApplied from None
            return outcome
    except _AlreadyApplied:
        return "duplicate"


def _apply_event(payment: Payment | None, event: ProviderEvent) -> str:
    """Move the locked payment along; paid wins over declined, expired and
    cancelled, since then the provider really holds the money, so any order
    gives one result. Declined/expired only close a pending payment."""
    if event.outcome in (EventOutcome.IGNORED, EventOutcome.PENDING):
        return "ignored"
    if payment is None:
        logger.warning("webhook event %s for an unknown payment", event.event_id)
        return "unknown_payment"
    if event.outcome == EventOutcome.PAID:
        if payment.status == PaymentStatus.PAID:
            return "already_paid"
        if event.amount != payment.amount or (
            event.currency and event.currency != payment.currency
        ):
            logger.error(
                "payment %s: provider reports %s %s, expected %s %s; not credited",
                payment.pk,
                event.amount,
                event.currency,
                payment.amount,
                payment.currency,
            )
            raise WebhookRejected("The paid amount does not match the payment.")
        _credit(payment)
        return "credited"
    if event.outcome in (EventOutcome.DECLINED, EventOutcome.EXPIRED):
        if payment.status != PaymentStatus.PENDING:
            return f"ignored_{payment.status}"
        _close(payment, PaymentStatus(event.outcome))
        return event.outcome
    raise ValueError(f"Unknown event outcome {event.outcome}")


def _credit(payment: Payment) -> None:
    wallet = wallet_open(user=payment.user, currency=payment.currency)
    clearing = system_wallet(SystemAccount.PAYMENT_CLEARING, payment.currency)
    locked = lock_wallets(wallet, clearing)
    txn = post_transaction(
        kind=TransactionKind.TOP_UP,
        legs=[
            (locked[clearing.pk], -payment.amount),
            (locked[wallet.pk], payment.amount),
        ],
        description=f"Top-up #{payment.pk} via {payment.provider}",
        reference=f"payment:{payment.pk}",
    )
    payment.status = PaymentStatus.PAID
    payment.paid_at = timezone.now()
    payment.closed_at = None
    payment.ledger_transaction = txn
    payment.save(
        update_fields=[
            "status",
            "paid_at",
            "closed_at",
            "ledger_transaction",
            "updated_at",
        ]
    )
    notification_send(
        user=payment.user,
        kind="wallet",
        title=(
            f"{money.format_money(payment.amount, payment.currency)} "
            "added to your wallet"
        ),
        url=payment.get_absolute_url(),
    )


def _close(payment: Payment, status: PaymentStatus) -> None:
    payment.status = status
    payment.closed_at = timezone.now()
    payment.save(update_fields=["status", "closed_at", "updated_at"])
    verb = "was declined" if status == PaymentStatus.DECLINED else "expired"
    notification_send(
        user=payment.user,
        kind="wallet",
        title=(
            f"Your top-up of {money.format_money(payment.amount, payment.currency)} "
            f"{verb}"
        ),
        body="Nothing was charged to your wallet.",
        url=payment.get_absolute_url(),
    )


@retry_when_busy
def payment_expire_stale(*, now=None, batch: int = 200) -> int:
    """Mark pending payments older than PAYMENT_PENDING_TIMEOUT_HOURS expired
    (periodic job; idempotent). A late "paid" webhook still credits them."""
    now = now or timezone.now()
    cutoff = now - timedelta(hours=settings.PAYMENT_PENDING_TIMEOUT_HOURS)
    expired = 0
    while True:
        with transaction.atomic(durable=True):
            stale = list(
                Payment.objects.select_for_update(skip_locked=True)
                .filter(status=PaymentStatus.PENDING, created_at__lte=cutoff)
                .select_related("user")
                .order_by("pk")[:batch]
            )
            for payment in stale:
                _close(payment, PaymentStatus.EXPIRED)
        expired += len(stale)
        if len(stale) < batch:
            return expired
