"""Wallet API serializers: inputs (validated, never written) and outputs."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from wallet import money
from wallet.models import (
    LedgerEntry,
    Payment,
    PromotionProduct,
    PromotionPurchase,
    TransactionKind,
)


@extend_schema_field(OpenApiTypes.INT)
class MinorUnitsField(serializers.Field):
    """An amount in minor units: a JSON integer, never a string, float or bool."""

    default_error_messages = {
        "invalid": (
            "Send a whole number of minor units as a JSON integer (500000 = 5 000 ₸)."
        ),
    }

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return data

    def to_representation(self, value):
        return int(value)


class WalletSerializer(serializers.Serializer):
    balance = serializers.IntegerField(
        help_text="Everything you own: available + held (minor units)."
    )
    held = serializers.IntegerField(help_text="Held in safe deals (minor units).")
    available = serializers.IntegerField(help_text="What you can spend now.")
    currency = serializers.CharField()
    balance_display = serializers.SerializerMethodField()
    available_display = serializers.SerializerMethodField()

    def get_balance_display(self, summary) -> str:
        return money.format_money(summary.balance, summary.currency)

    def get_available_display(self, summary) -> str:
        return money.format_money(summary.available, summary.currency)


class LedgerEntrySerializer(serializers.ModelSerializer):
    transaction = serializers.IntegerField(source="transaction_id")
    kind = serializers.ChoiceField(
        source="transaction.kind", choices=TransactionKind.choices
    )
    description = serializers.CharField(source="transaction.description")
    currency = serializers.CharField(source="transaction.currency")

    class Meta:
        model = LedgerEntry
        fields = [
            "id",
            "transaction",
            "kind",
            "description",
            "amount",
            "balance_after",
            "currency",
            "created_at",
        ]
        read_only_fields = fields


class TopUpCreateInput(serializers.Serializer):
    amount = MinorUnitsField(help_text="In minor units: 500000 = 5 000 ₸.")


class PaymentSerializer(serializers.ModelSerializer):
    payment_id = serializers.IntegerField(source="pk")
    checkout_url = serializers.SerializerMethodField()

    class Meta:
        model = Payment
        fields = [
            "payment_id",
            "status",
            "amount",
            "currency",
            "provider",
            "checkout_url",
            "created_at",
            "paid_at",
            "closed_at",
        ]
        read_only_fields = fields

    def get_checkout_url(self, payment) -> str | None:
        if not payment.is_pending or not payment.checkout_url:
            return None
        request = self.context.get("request")
        if request is not None:
            return request.build_absolute_uri(payment.checkout_url)
        return payment.checkout_url


class PromotionProductSerializer(serializers.ModelSerializer):
    price_display = serializers.SerializerMethodField()

    class Meta:
        model = PromotionProduct
        fields = [
            "code",
            "kind",
            "name",
            "description",
            "price",
            "currency",
            "price_display",
            "duration_days",
        ]
        read_only_fields = fields

    def get_price_display(self, product) -> str:
        return money.format_money(product.price, product.currency)


class PromotionPurchaseInput(serializers.Serializer):
    product = serializers.SlugField(
        max_length=32, help_text="A product code from /api/v1/promotions/products/."
    )


class PromotionPurchaseSerializer(serializers.ModelSerializer):
    listing = serializers.IntegerField(source="listing_id", allow_null=True)
    product = serializers.CharField(source="product.code")
    views_now = serializers.SerializerMethodField()
    favourites_now = serializers.SerializerMethodField()

    class Meta:
        model = PromotionPurchase
        fields = [
            "id",
            "listing",
            "listing_title",
            "product",
            "kind",
            "price",
            "currency",
            "status",
            "starts_at",
            "ends_at",
            "views_at_start",
            "favourites_at_start",
            "views_now",
            "favourites_now",
            "created_at",
        ]
        read_only_fields = fields

    def get_views_now(self, purchase) -> int | None:
        return purchase.listing.view_count if purchase.listing else None

    def get_favourites_now(self, purchase) -> int | None:
        return purchase.listing.favourite_count if purchase.listing else None
