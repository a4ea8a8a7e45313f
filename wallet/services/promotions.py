"""Promotions: a seller pays from the wallet to make a listing more visible."""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from accounts.services import notification_send
from core.errors import Conflict
from core.services import audit_log_record
from listings.models import ListingStatus
from listings.services import listing_apply_promotion
from wallet import money
from wallet.models import (
    PromotionKind,
    PromotionProduct,
    PromotionPurchase,
    PromotionStatus,
    SystemAccount,
    TransactionKind,
)
from wallet.selectors import access_listing_for_promotion, product_get
from wallet.services.ledger import (
    finish,
    lock_wallets,
    money_transaction,
    post_transaction,
    retry_when_busy,
    system_wallet,
    wallet_open,
)


@retry_when_busy
def promotion_purchase(
    *, user, listing_id: int, product_code: str, idempotency=None
) -> PromotionPurchase:
    """Debit the user's wallet and switch the promotion on for their listing."""
    listing = access_listing_for_promotion(user=user, pk=listing_id)
    if listing.status != ListingStatus.ACTIVE:
        raise Conflict(
            "Only active listings can be promoted.", code="listing_not_active"
        )
    product = product_get(code=product_code)
    wallet = wallet_open(user=user, currency=product.currency)
    revenue = system_wallet(SystemAccount.PROMOTION_REVENUE, product.currency)
    with money_transaction(idempotency):
        locked = lock_wallets(wallet, revenue)
        txn = post_transaction(
            kind=TransactionKind.PROMOTION,
            legs=[
                (locked[wallet.pk], -product.price),
                (locked[revenue.pk], product.price),
            ],
            description=f"{product.name}: {listing.title}",
        )
        duration = (
            timedelta(days=product.duration_days) if product.duration_days else None
        )
        # Locks the listing and re-checks that it is active (Conflict rolls
        # the debit back).
        promoted = listing_apply_promotion(
            listing=listing, kind=product.kind, duration=duration
        )
        now = timezone.now()
        if product.kind == PromotionKind.BUMP:
            starts_at = ends_at = promoted.bumped_at
        else:
            ends_at = getattr(promoted, f"{product.kind}_until")
            # Buying again while one runs extends it: this one starts where the
            # previous one ends.
            starts_at = ends_at - duration
        purchase = PromotionPurchase.objects.create(
            user=user,
            listing=promoted,
            listing_title=promoted.title,
            product=product,
            kind=product.kind,
            price=product.price,
            currency=product.currency,
            ledger_transaction=txn,
            starts_at=starts_at,
            ends_at=ends_at,
            # A bump is done once applied.
            status=(
                PromotionStatus.ENDED
                if product.kind == PromotionKind.BUMP
                else PromotionStatus.ACTIVE
            ),
            ended_at=now if product.kind == PromotionKind.BUMP else None,
            views_at_start=promoted.view_count,
            favourites_at_start=promoted.favourite_count,
        )
        until = (
            ""
            if product.kind == PromotionKind.BUMP
            else f" until {timezone.localtime(ends_at):%d %b %Y %H:%M}"
        )
        notification_send(
            user=user,
            kind="wallet",
            title=f"{product.name} is on for “{promoted.title}”{until}",
            body=f"Paid {money.format_money(product.price, product.currency)}.",
            url="/wallet/promotions/",
        )
        return finish(idempotency, purchase)


@retry_when_busy
def promotion_expire_ended(*, now=None, batch: int = 500) -> int:
    """Mark promotions whose time is up as ended (periodic job; idempotent).

    The listing itself needs nothing: search compares featured_until/top_until
    with the current time.
    """
    now = now or timezone.now()
    ended = 0
    while True:
        with transaction.atomic(durable=True):
            due = list(
                PromotionPurchase.objects.select_for_update(skip_locked=True)
                .filter(status=PromotionStatus.ACTIVE, ends_at__lte=now)
                .select_related("user", "product")
                .order_by("pk")[:batch]
            )
            for purchase in due:
                purchase.status = PromotionStatus.ENDED
                purchase.ended_at = now
                purchase.save(update_fields=["status", "ended_at"])
                notification_send(
                    user=purchase.user,
                    kind="wallet",
                    title=(
                        f"{purchase.product.name} ended for “{purchase.listing_title}”"
                    ),
                    url="/wallet/promotions/",
                )
        ended += len(due)
        if len(due) < batch:
            return ended


def promotion_product_save(*, product: PromotionProduct, actor) -> PromotionProduct:
    """Create or change a promotion product (admins set prices); audited."""
    product.full_clean()
    with transaction.atomic():
        previous = (
            PromotionProduct.objects.filter(pk=product.pk).first()
            if product.pk
            else None
        )
        product.save()
        audit_log_record(
            actor=actor,
            action="promotion_product.save",
            target=product,
            data={
                "price": product.price,
                "previous_price": previous.price if previous else None,
                "is_active": product.is_active,
            },
        )
    return product
