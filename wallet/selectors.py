"""Reads of the wallet: balances, history, payments, promotions."""

from dataclasses import dataclass
from datetime import date, datetime, time

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from core.errors import NotFound, PermissionDenied
from listings.models import Listing, ListingStatus
from wallet.models import (
    LedgerEntry,
    Payment,
    PromotionProduct,
    PromotionPurchase,
    Wallet,
    WalletKind,
)


@dataclass(frozen=True)
class WalletSummary:
    """What the owner sees: total = available + held (in safe deals)."""

    balance: int
    held: int
    available: int
    currency: str


def wallet_get(*, user, currency: str | None = None) -> Wallet | None:
    return Wallet.objects.filter(
        kind=WalletKind.USER, user=user, currency=currency or settings.SITE_CURRENCY
    ).first()


def wallet_summary(*, wallet: Wallet | None, currency: str | None = None):
    if wallet is None:
        return WalletSummary(0, 0, 0, currency or settings.SITE_CURRENCY)
    return WalletSummary(
        balance=wallet.total,
        held=wallet.held,
        available=wallet.available,
        currency=wallet.currency,
    )


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def entry_list(
    *,
    wallet: Wallet,
    kind: str | None = None,
    direction: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
) -> QuerySet[LedgerEntry]:
    """The wallet's history, newest first, each entry with its running balance."""
    qs = LedgerEntry.objects.filter(wallet=wallet).select_related("transaction")
    if kind:
        qs = qs.filter(transaction__kind=kind)
    if direction == "in":
        qs = qs.filter(amount__gt=0)
    elif direction == "out":
        qs = qs.filter(amount__lt=0)
    if date_from:
        qs = qs.filter(created_at__gte=_day_start(date_from))
    if date_to:
        qs = qs.filter(created_at__lt=_day_start(date_to) + timezone.timedelta(days=1))
    return qs.order_by("-pk")


def payment_list(*, user) -> QuerySet[Payment]:
    return Payment.objects.filter(user=user).order_by("-created_at", "-pk")


def access_payment(*, user, pk, for_update: bool = False) -> Payment:
    """The user's own payment; anyone else's is NotFound (404). With
    `for_update`, its row is locked (inside the caller's transaction)."""
    qs = Payment.objects.filter(pk=pk, user=user)
    if for_update:
        qs = qs.select_for_update()
    payment = qs.first()
    if payment is None:
        raise NotFound("No such payment.")
    return payment


def payment_by_checkout_reference(*, provider: str, reference: str) -> Payment:
    payment = (
        Payment.objects.filter(provider=provider, provider_reference=reference)
        .select_related("user")
        .first()
    )
    if payment is None or not reference:
        raise NotFound("No such checkout session.")
    return payment


def product_list(*, currency: str | None = None) -> QuerySet[PromotionProduct]:
    return PromotionProduct.objects.filter(
        is_active=True, currency=currency or settings.SITE_CURRENCY
    ).order_by("order", "price", "pk")


def product_get(*, code: str, currency: str | None = None) -> PromotionProduct:
    product = product_list(currency=currency).filter(code=code).first()
    if product is None:
        raise NotFound("No such promotion.", field="product")
    return product


def access_listing_for_promotion(*, user, pk) -> Listing:
    """A listing the user may buy promotions for: their own.

    Someone else's public (active) listing is PermissionDenied; a listing that
    does not exist or that the user may not see is NotFound.
    """
    listing = Listing.objects.filter(pk=pk).first()
    if listing is None:
        raise NotFound("No such listing.")
    if listing.owner_id != user.pk:
        if listing.status == ListingStatus.ACTIVE:
            raise PermissionDenied("You can only promote your own listings.")
        raise NotFound("No such listing.")
    return listing


def promotion_purchase_list(*, user) -> QuerySet[PromotionPurchase]:
    """The user's promotions, newest first, with the listing's numbers now."""
    return (
        PromotionPurchase.objects.filter(user=user)
        .select_related("listing", "product")
        .order_by("-created_at", "-pk")
    )
