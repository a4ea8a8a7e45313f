"""Moderation of the wallet: the ledger and balances are read-only here; a
balance changes only through the adjustment form (a service, with a reason,
audited). Promotion prices are editable by those allowed to change them."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from core.admin import ReadOnlyAdminMixin
from core.errors import DomainError
from wallet import money, services
from wallet.forms import AdjustmentForm
from wallet.models import (
    Hold,
    LedgerEntry,
    LedgerTransaction,
    Payment,
    PaymentEvent,
    PromotionProduct,
    PromotionPurchase,
    Wallet,
    WalletKind,
)


def _money(amount, currency):
    return money.format_money(amount, currency)


@admin.register(Wallet)
class WalletAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "pk",
        "owner",
        "kind",
        "currency",
        "available_display",
        "held_display",
        "updated_at",
    )
    list_filter = ("kind", "system_account", "currency")
    search_fields = ("user__email", "user__display_name")
    list_select_related = ("user",)
    readonly_fields = [
        "kind",
        "user",
        "system_account",
        "currency",
        "balance",
        "held",
        "created_at",
        "updated_at",
        "history_link",
    ]
    fields = readonly_fields
    actions = ["adjust_balance"]
    change_form_template = "admin/wallet/wallet/change_form.html"

    @admin.display(description="owner", ordering="user__email")
    def owner(self, wallet):
        return str(wallet)

    @admin.display(description="available", ordering="balance")
    def available_display(self, wallet):
        return _money(wallet.balance, wallet.currency)

    @admin.display(description="held", ordering="held")
    def held_display(self, wallet):
        return _money(wallet.held, wallet.currency)

    @admin.display(description="ledger")
    def history_link(self, wallet):
        url = reverse("admin:wallet_ledgerentry_changelist")
        return format_html(
            '<a href="{}?wallet__id__exact={}">Entries</a>', url, wallet.pk
        )

    def has_adjust_permission(self, request):
        return request.user.has_perm("wallet.adjust_wallet")

    @admin.action(description="Adjust the balance (one wallet, with a reason)")
    def adjust_balance(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(
                request, "Select exactly one wallet to adjust.", messages.WARNING
            )
            return None
        return redirect("admin:wallet_wallet_adjust", queryset.get().pk)

    adjust_balance.allowed_permissions = ("adjust",)

    def get_urls(self):
        urls = [
            path(
                "<int:pk>/adjust/",
                self.admin_site.admin_view(self.adjust_view),
                name="wallet_wallet_adjust",
            )
        ]
        return urls + super().get_urls()

    def adjust_view(self, request, pk):
        if not self.has_adjust_permission(request):
            raise PermissionDenied
        wallet = get_object_or_404(Wallet, pk=pk, kind=WalletKind.USER)
        form = AdjustmentForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                services.wallet_adjust(
                    wallet=wallet,
                    amount=form.cleaned_data["amount"],
                    reason=form.cleaned_data["reason"],
                    actor=request.user,
                )
            except DomainError as exc:
                form.add_error(
                    exc.field if exc.field in form.fields else None, exc.message
                )
            else:
                amount = money.format_money(
                    form.cleaned_data["amount"], wallet.currency, signed=True
                )
                self.message_user(request, f"Adjusted by {amount}.", messages.SUCCESS)
                return redirect("admin:wallet_wallet_change", wallet.pk)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Adjust the balance of {wallet}",
            "wallet": wallet,
            "form": form,
            "opts": self.model._meta,
            "available": _money(wallet.balance, wallet.currency),
        }
        return TemplateResponse(request, "admin/wallet/wallet/adjust.html", context)


class LedgerEntryInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = LedgerEntry
    fields = ("wallet", "amount", "balance_after", "created_at")
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(LedgerTransaction)
class LedgerTransactionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("pk", "created_at", "kind", "description", "currency", "created_by")
    list_filter = ("kind", "currency", ("created_at", admin.DateFieldListFilter))
    search_fields = ("description", "reference", "entries__wallet__user__email")
    date_hierarchy = "created_at"
    list_select_related = ("created_by",)
    readonly_fields = [f.name for f in LedgerTransaction._meta.fields]
    inlines = [LedgerEntryInline]


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "pk",
        "created_at",
        "wallet",
        "kind",
        "amount_display",
        "balance_after_display",
        "transaction",
    )
    list_filter = (
        "transaction__kind",
        "wallet__kind",
        ("created_at", admin.DateFieldListFilter),
    )
    search_fields = ("wallet__user__email", "wallet__user__display_name")
    date_hierarchy = "created_at"
    list_select_related = ("wallet__user", "transaction")
    readonly_fields = [f.name for f in LedgerEntry._meta.fields]

    @admin.display(description="kind", ordering="transaction__kind")
    def kind(self, entry):
        return entry.transaction.get_kind_display()

    @admin.display(description="amount", ordering="amount")
    def amount_display(self, entry):
        return money.format_money(entry.amount, entry.wallet.currency, signed=True)

    @admin.display(description="balance after")
    def balance_after_display(self, entry):
        return _money(entry.balance_after, entry.wallet.currency)


@admin.register(Hold)
class HoldAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("pk", "reference", "wallet", "amount", "status", "created_at")
    list_filter = ("status", ("created_at", admin.DateFieldListFilter))
    search_fields = ("reference", "wallet__user__email")
    list_select_related = ("wallet__user",)
    readonly_fields = [f.name for f in Hold._meta.fields]


class PaymentEventInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = PaymentEvent
    fields = ("received_at", "event_type", "event_id", "outcome")
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "pk",
        "user",
        "amount_display",
        "status",
        "provider",
        "created_at",
        "paid_at",
    )
    list_filter = ("status", "provider", ("created_at", admin.DateFieldListFilter))
    search_fields = ("user__email", "provider_reference")
    date_hierarchy = "created_at"
    list_select_related = ("user",)
    readonly_fields = [f.name for f in Payment._meta.fields]
    inlines = [PaymentEventInline]

    @admin.display(description="amount", ordering="amount")
    def amount_display(self, payment):
        return _money(payment.amount, payment.currency)


@admin.register(PaymentEvent)
class PaymentEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("pk", "received_at", "provider", "event_type", "outcome", "payment")
    list_filter = ("provider", "outcome", "event_type")
    search_fields = ("event_id", "payment__user__email")
    readonly_fields = [f.name for f in PaymentEvent._meta.fields]


@admin.register(PromotionProduct)
class PromotionProductAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "code",
        "kind",
        "price_display",
        "duration_days",
        "is_active",
        "order",
    )
    list_filter = ("kind", "is_active")
    list_editable = ("is_active", "order")
    search_fields = ("name", "code")

    @admin.display(description="price", ordering="price")
    def price_display(self, product):
        return _money(product.price, product.currency)

    def has_delete_permission(self, request, obj=None):
        # Bought products are history; switch them off instead.
        return False

    def save_model(self, request, obj, form, change):
        services.promotion_product_save(product=obj, actor=request.user)


@admin.register(PromotionPurchase)
class PromotionPurchaseAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "pk",
        "listing_title",
        "user",
        "kind",
        "price",
        "status",
        "starts_at",
        "ends_at",
    )
    list_filter = ("kind", "status", ("created_at", admin.DateFieldListFilter))
    search_fields = ("listing_title", "user__email")
    list_select_related = ("user",)
    readonly_fields = [f.name for f in PromotionPurchase._meta.fields]
