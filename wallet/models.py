"""The wallet's data: a double-entry ledger, holds, payments and promotions.

Amounts are integers in minor units with a currency code. Balances change only
in `wallet.services`, always together with a balanced ledger transaction, under
row locks taken in primary-key order.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.urls import reverse

from core.models import AppendOnlyModel


class WalletKind(models.TextChoices):
    USER = "user", "User"
    SYSTEM = "system", "System"


class SystemAccount(models.TextChoices):
    """The platform's own accounts: the other side of every user movement."""

    PAYMENT_CLEARING = "payment_clearing", "Payment provider clearing"
    PROMOTION_REVENUE = "promotion_revenue", "Promotion revenue"
    ESCROW = "escrow", "Escrow"
    PLATFORM_FEES = "platform_fees", "Platform fees"
    ADJUSTMENTS = "adjustments", "Manual adjustments"


class Wallet(models.Model):
    """A balance in one currency: a user's, or one of the system accounts.

    `balance` is what the owner can spend and always equals the sum of the
    wallet's ledger entries. `held` is the part of a user's money sitting in the
    escrow account under open holds (safe deals); the user's total is
    `balance + held`. System accounts may go negative (clearing is owed by the
    payment provider); user balances may not.
    """

    kind = models.CharField(max_length=8, choices=WalletKind.choices)
    # Deleting a user deletes an unused wallet; entries protect one with history.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="wallets",
    )
    system_account = models.CharField(
        max_length=32, choices=SystemAccount.choices, blank=True
    )
    currency = models.CharField(max_length=3)
    balance = models.BigIntegerField(default=0)
    held = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind=WalletKind.SYSTEM) | Q(balance__gte=0),
                name="wallet_user_balance_non_negative",
            ),
            models.CheckConstraint(
                condition=Q(held__gte=0), name="wallet_held_non_negative"
            ),
            models.CheckConstraint(
                condition=(
                    Q(kind=WalletKind.USER, user__isnull=False, system_account="")
                    | (
                        Q(kind=WalletKind.SYSTEM, user__isnull=True)
                        & ~Q(system_account="")
                    )
                ),
                name="wallet_owner_matches_kind",
            ),
            models.UniqueConstraint(
                fields=["user", "currency"],
                condition=Q(kind=WalletKind.USER),
                name="unique_user_wallet_per_currency",
            ),
            models.UniqueConstraint(
                fields=["system_account", "currency"],
                condition=Q(kind=WalletKind.SYSTEM),
                name="unique_system_wallet_per_currency",
            ),
        ]
        permissions = [("adjust_wallet", "Can adjust a wallet's balance with a reason")]

    def __str__(self):
        if self.kind == WalletKind.SYSTEM:
            return f"{self.get_system_account_display()} ({self.currency})"
        return f"{self.user} ({self.currency})"

    @property
    def available(self) -> int:
        return self.balance

    @property
    def total(self) -> int:
        return self.balance + self.held

    @property
    def is_system(self) -> bool:
        return self.kind == WalletKind.SYSTEM


class TransactionKind(models.TextChoices):
    TOP_UP = "top_up", "Top-up"
    PROMOTION = "promotion", "Promotion"
    ESCROW_HOLD = "escrow_hold", "Safe deal: money held"
    ESCROW_CAPTURE = "escrow_capture", "Safe deal: paid out"
    ESCROW_RELEASE = "escrow_release", "Safe deal: money returned"
    ADJUSTMENT = "adjustment", "Adjustment"


class LedgerTransaction(AppendOnlyModel):
    """One movement of money: two or more entries that sum to zero."""

    kind = models.CharField(max_length=16, choices=TransactionKind.choices)
    currency = models.CharField(max_length=3)
    description = models.CharField(max_length=255)
    # What caused it ("payment:12", "hold:7:settle"): unique, so the database
    # itself refuses to credit a payment or settle a hold twice.
    reference = models.CharField(max_length=64, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The moderator, for adjustments.",
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["reference"],
                condition=~Q(reference=""),
                name="unique_ledger_reference",
            )
        ]

    def __str__(self):
        return f"#{self.pk} {self.get_kind_display()}: {self.description}"


class LedgerEntry(AppendOnlyModel):
    """One leg of a transaction: a signed amount on one wallet."""

    transaction = models.ForeignKey(
        LedgerTransaction, on_delete=models.PROTECT, related_name="entries"
    )
    wallet = models.ForeignKey(Wallet, on_delete=models.PROTECT, related_name="entries")
    amount = models.BigIntegerField()
    # The wallet's balance right after this entry: the running balance of the
    # history, written under the wallet's lock.
    balance_after = models.BigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-pk"]
        verbose_name_plural = "ledger entries"
        constraints = [
            models.CheckConstraint(
                condition=~Q(amount=0), name="ledger_entry_amount_non_zero"
            )
        ]
        indexes = [models.Index(fields=["wallet", "-id"], name="ledger_wallet_idx")]

    def __str__(self):
        return f"{self.wallet}: {self.amount:+d}"


class HoldStatus(models.TextChoices):
    HELD = "held", "Held"
    CAPTURED = "captured", "Captured"
    RELEASED = "released", "Released"


class Hold(models.Model):
    """Money moved from a buyer's wallet into escrow until it is captured (paid
    to the seller) or released (back to the buyer): exactly one of the two."""

    wallet = models.ForeignKey(Wallet, on_delete=models.PROTECT, related_name="holds")
    amount = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    # The caller's own reference ("deal:12"): one hold per reference.
    reference = models.CharField(max_length=64, unique=True)
    description = models.CharField(max_length=255, blank=True)
    status = models.CharField(
        max_length=16, choices=HoldStatus.choices, default=HoldStatus.HELD
    )
    beneficiary = models.ForeignKey(
        Wallet,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The wallet paid on capture.",
    )
    fee = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    settled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gt=0), name="hold_amount_positive"
            ),
            models.CheckConstraint(
                condition=Q(fee__gte=0) & Q(fee__lte=F("amount")),
                name="hold_fee_within_amount",
            ),
            models.CheckConstraint(
                condition=(
                    Q(status=HoldStatus.HELD, settled_at__isnull=True)
                    | (~Q(status=HoldStatus.HELD) & Q(settled_at__isnull=False))
                ),
                name="hold_settled_when_not_held",
            ),
        ]
        indexes = [models.Index(fields=["wallet", "status"], name="hold_wallet_idx")]

    def __str__(self):
        return f"Hold {self.reference}: {self.amount} {self.currency} ({self.status})"


class PaymentStatus(models.TextChoices):
    PENDING = "pending", "Waiting for payment"
    PAID = "paid", "Paid"
    DECLINED = "declined", "Declined"
    EXPIRED = "expired", "Expired"
    CANCELLED = "cancelled", "Cancelled"


class Payment(models.Model):
    """A top-up through a payment provider: pending until its webhook says
    paid (the wallet is credited once), declined or expired (nothing is), or
    until its owner cancels it (nothing is, unless a "paid" webhook still
    comes: the provider then holds the money, so it is credited)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="payments"
    )
    provider = models.CharField(max_length=16)
    amount = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    status = models.CharField(
        max_length=16, choices=PaymentStatus.choices, default=PaymentStatus.PENDING
    )
    # The provider's id of the checkout (Stripe Checkout Session id).
    provider_reference = models.CharField(max_length=255, blank=True)
    checkout_url = models.CharField(max_length=2000, blank=True)
    ledger_transaction = models.OneToOneField(
        LedgerTransaction,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="payment",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(
        null=True, blank=True, help_text="When it was declined, expired or cancelled."
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gt=0), name="payment_amount_positive"
            ),
            models.UniqueConstraint(
                fields=["provider", "provider_reference"],
                condition=~Q(provider_reference=""),
                name="unique_payment_provider_reference",
            ),
            models.CheckConstraint(
                condition=~Q(status=PaymentStatus.PAID)
                | Q(ledger_transaction__isnull=False),
                name="payment_paid_has_credit",
            ),
        ]
        indexes = [
            models.Index(fields=["user", "-created_at"], name="payment_user_idx"),
            models.Index(fields=["status", "created_at"], name="payment_status_idx"),
        ]

    def __str__(self):
        return f"Top-up #{self.pk}: {self.amount} {self.currency} ({self.status})"

    def get_absolute_url(self):
        return reverse("wallet:top_up_detail", kwargs={"pk": self.pk})

    @property
    def is_pending(self) -> bool:
        return self.status == PaymentStatus.PENDING


class PaymentEvent(AppendOnlyModel):
    """A verified webhook delivery, kept once per provider event id: repeated
    deliveries of the same event are recognised and change nothing."""

    provider = models.CharField(max_length=16)
    event_id = models.CharField(max_length=255)
    event_type = models.CharField(max_length=100)
    payment = models.ForeignKey(
        Payment,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="events",
    )
    outcome = models.CharField(max_length=32)
    payload = models.JSONField(default=dict)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "event_id"], name="unique_payment_event"
            )
        ]

    def __str__(self):
        return f"{self.provider} {self.event_type} {self.event_id}"


class PromotionKind(models.TextChoices):
    BUMP = "bump", "Bump to the top"
    FEATURED = "featured", "Featured"
    TOP = "top", "Top of search"


class PromotionProduct(models.Model):
    """Something a seller can buy for a listing, at a price set by the admins."""

    code = models.SlugField(max_length=32, unique=True)
    kind = models.CharField(max_length=16, choices=PromotionKind.choices)
    name = models.CharField(max_length=100)
    description = models.CharField(max_length=255, blank=True)
    price = models.BigIntegerField(help_text="In minor units (tiyn): 150000 = 1 500 ₸")
    currency = models.CharField(max_length=3)
    duration_days = models.PositiveSmallIntegerField(
        default=0, help_text="How long it lasts; 0 for a one-off bump."
    )
    is_active = models.BooleanField(default=True)
    order = models.PositiveSmallIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["order", "price"]
        constraints = [
            models.CheckConstraint(
                condition=Q(price__gt=0), name="promotion_price_positive"
            ),
            models.CheckConstraint(
                condition=(
                    Q(kind=PromotionKind.BUMP, duration_days=0)
                    | (~Q(kind=PromotionKind.BUMP) & Q(duration_days__gte=1))
                ),
                name="promotion_duration_matches_kind",
            ),
        ]

    def __str__(self):
        return self.name


class PromotionStatus(models.TextChoices):
    ACTIVE = "active", "Running"
    ENDED = "ended", "Ended"


class PromotionPurchase(models.Model):
    """A promotion bought for a listing, with the listing's numbers at purchase
    time so the owner can compare before and during."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="promotion_purchases",
    )
    listing = models.ForeignKey(
        "listings.Listing",
        null=True,
        on_delete=models.SET_NULL,
        related_name="promotion_purchases",
    )
    listing_title = models.CharField(max_length=120)
    product = models.ForeignKey(
        PromotionProduct, on_delete=models.PROTECT, related_name="purchases"
    )
    kind = models.CharField(max_length=16, choices=PromotionKind.choices)
    price = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    ledger_transaction = models.OneToOneField(
        LedgerTransaction, on_delete=models.PROTECT, related_name="promotion_purchase"
    )
    status = models.CharField(
        max_length=16, choices=PromotionStatus.choices, default=PromotionStatus.ACTIVE
    )
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    views_at_start = models.PositiveIntegerField(default=0)
    favourites_at_start = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["user", "-created_at"], name="promo_user_idx"),
            models.Index(fields=["status", "ends_at"], name="promo_expiry_idx"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} for {self.listing_title}"


class IdempotencyRecord(models.Model):
    """The stored first answer to a money-moving request with an
    Idempotency-Key: repeated requests with the same key get it back."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    key = models.CharField(max_length=255)
    # Method and path of the first request: the key belongs to that endpoint.
    scope = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64)
    response_status = models.PositiveSmallIntegerField(null=True)
    # JSON text, not a JSONField: PostgreSQL's jsonb would reorder the keys,
    # and a replay must be the first answer exactly.
    response_body = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "key"], name="unique_idempotency_key"
            )
        ]

    def __str__(self):
        return f"{self.user_id}:{self.key}"
