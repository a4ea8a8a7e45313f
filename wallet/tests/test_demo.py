from io import StringIO

import pytest

from accounts.demo import seed_users
from listings.tests.factories import ListingFactory
from wallet import demo
from wallet.models import Payment, PromotionProduct, PromotionPurchase, Wallet

pytestmark = pytest.mark.django_db


def test_demo_seed_is_idempotent_and_uses_the_real_services():
    users = seed_users()
    seller = users.by_role["seller"]
    listing = ListingFactory(owner=seller)

    demo.seed(users=users, options={}, stdout=StringIO())
    demo.seed(users=users, options={}, stdout=StringIO())

    assert set(PromotionProduct.objects.values_list("code", flat=True)) == {
        "bump",
        "featured-7",
        "top-7",
    }
    assert Payment.objects.filter(status="paid").count() == 2
    assert not Payment.objects.filter(status="pending").exists()
    assert Wallet.objects.get(user=users.by_role["buyer"]).balance == 5_000_000
    assert Wallet.objects.get(user=seller).balance == 2_000_000 - 150_000
    purchase = PromotionPurchase.objects.get()
    assert purchase.listing == listing


def test_demo_seed_loads_under_the_tightest_top_up_limits(settings):
    # Each demo top-up is paid as soon as it starts: one place and one start
    # per user are enough.
    settings.WALLET_TOP_UP_MAX_PENDING = 1
    settings.WALLET_TOP_UP_RATE_LIMIT_STARTS = 1
    users = seed_users()
    ListingFactory(owner=users.by_role["seller"])

    demo.seed(users=users, options={}, stdout=StringIO())
    demo.seed(users=users, options={}, stdout=StringIO())

    assert Payment.objects.filter(status="paid").count() == 2
    assert Wallet.objects.get(user=users.by_role["buyer"]).balance == 5_000_000
