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
    assert Wallet.objects.get(user=users.by_role["buyer"]).balance == 5_000_000
    assert Wallet.objects.get(user=seller).balance == 2_000_000 - 150_000
    purchase = PromotionPurchase.objects.get()
    assert purchase.listing == listing
