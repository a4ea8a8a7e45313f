"""Demo data for the wallet, through the real services. Idempotent: running
seed_demo again changes nothing here."""

from django.conf import settings

from wallet import money, services
from wallet.models import Payment, PaymentStatus, PromotionProduct, PromotionPurchase
from wallet.payments import get_provider
from wallet.payments.sandbox import SandboxProvider

PRODUCTS = [
    # code, kind, name, description, price (minor units), days, order
    (
        "bump",
        "bump",
        "Bump to the top",
        "Back to the top of newest-first, once.",
        50_000,
        0,
        0,
    ),
    (
        "featured-7",
        "featured",
        "Featured",
        "Highlighted and shown in the featured strip on home and category pages.",
        150_000,
        7,
        1,
    ),
    (
        "top-7",
        "top",
        "Top of search",
        "Pinned above ordinary results in its category's search.",
        300_000,
        7,
        2,
    ),
]

# Demo balances, topped up once through the sandbox provider.
TOP_UPS = {"seller": 2_000_000, "buyer": 5_000_000}


def seed(*, users, options, stdout):
    for code, kind, name, description, price, days, order in PRODUCTS:
        PromotionProduct.objects.get_or_create(
            code=code,
            defaults={
                "kind": kind,
                "name": name,
                "description": description,
                "price": price,
                "currency": settings.SITE_CURRENCY,
                "duration_days": days,
                "order": order,
            },
        )
    stdout.write(f"Wallet: {len(PRODUCTS)} promotion products.")

    if get_provider().name != SandboxProvider.name:
        stdout.write("Wallet: demo top-ups skipped (the provider is not the sandbox).")
        return
    for role, amount in TOP_UPS.items():
        user = users.by_role.get(role)
        if user is None:
            continue
        if Payment.objects.filter(user=user, status=PaymentStatus.PAID).exists():
            continue
        # Started and paid at once, like a real user would: the top-up never
        # waits, so the limits on starting top-ups (one start per user here)
        # never refuse the demo.
        payment = services.payment_create(user=user, amount=amount)
        body, headers = SandboxProvider().build_event(
            payment=payment, event_type="payment.succeeded"
        )
        services.payment_webhook_receive(
            provider_name=SandboxProvider.name, payload=body, headers=headers
        )
        stdout.write(f"Wallet: topped up {user.email} by {money.format_money(amount)}.")

    _feature_a_demo_listing(users.by_role.get("seller"), stdout)


def _feature_a_demo_listing(seller, stdout):
    """Give the home page's featured strip something to show."""
    if seller is None or PromotionPurchase.objects.filter(user=seller).exists():
        return
    listing = seller.listings.filter(status="active").order_by("pk").first()
    if listing is None:
        return
    services.promotion_purchase(
        user=seller, listing_id=listing.pk, product_code="featured-7"
    )
    stdout.write(f"Wallet: featured “{listing.title}” for 7 days.")
