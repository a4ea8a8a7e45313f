from datetime import timedelta

import pytest
from django.utils import timezone

from core.errors import Conflict, NotFound, PermissionDenied
from core.models import AuditLogEntry
from listings.models import Listing, ListingStatus
from listings.tests.factories import ListingFactory
from wallet import services
from wallet.models import (
    LedgerTransaction,
    PromotionProduct,
    PromotionPurchase,
    PromotionStatus,
    SystemAccount,
    Wallet,
)

pytestmark = pytest.mark.django_db


def _balance(user):
    return Wallet.objects.get(user=user).balance


def test_featured_purchase_debits_and_features_the_listing_for_seven_days(
    user, fund, featured
):
    fund(user, 500_000)
    listing = ListingFactory(owner=user, view_count=12, favourite_count=3)
    before = timezone.now()

    purchase = services.promotion_purchase(
        user=user, listing_id=listing.pk, product_code="featured-7"
    )

    listing.refresh_from_db()
    assert _balance(user) == 350_000
    assert (
        Wallet.objects.get(system_account=SystemAccount.PROMOTION_REVENUE).balance
        == 150_000
    )
    assert listing.featured_until == purchase.ends_at
    assert (
        before + timedelta(days=7)
        <= purchase.ends_at
        <= timezone.now() + timedelta(days=7)
    )
    assert purchase.ends_at - purchase.starts_at == timedelta(days=7)
    assert (purchase.status, purchase.price, purchase.kind) == (
        PromotionStatus.ACTIVE,
        150_000,
        "featured",
    )
    assert (purchase.views_at_start, purchase.favourites_at_start) == (12, 3)
    assert purchase.ledger_transaction.entries.count() == 2


def test_buying_featured_again_extends_the_running_promotion(user, fund, featured):
    fund(user, 500_000)
    listing = ListingFactory(owner=user)

    first = services.promotion_purchase(
        user=user, listing_id=listing.pk, product_code="featured-7"
    )
    second = services.promotion_purchase(
        user=user, listing_id=listing.pk, product_code="featured-7"
    )

    listing.refresh_from_db()
    assert second.starts_at == first.ends_at
    assert listing.featured_until == first.ends_at + timedelta(days=7)
    assert _balance(user) == 200_000


def test_bump_moves_the_listing_up_once_and_is_done(user, fund, bump):
    fund(user, 100_000)
    listing = ListingFactory(owner=user, bumped_at=timezone.now() - timedelta(days=3))

    purchase = services.promotion_purchase(
        user=user, listing_id=listing.pk, product_code="bump"
    )

    listing.refresh_from_db()
    assert listing.bumped_at == purchase.starts_at == purchase.ends_at
    assert listing.bumped_at > timezone.now() - timedelta(minutes=1)
    assert purchase.status == PromotionStatus.ENDED
    assert _balance(user) == 50_000


def test_top_sets_top_until(user, fund, top):
    fund(user, 300_000)
    listing = ListingFactory(owner=user)

    services.promotion_purchase(user=user, listing_id=listing.pk, product_code="top-7")

    listing.refresh_from_db()
    assert listing.top_until > timezone.now() + timedelta(days=6)
    assert listing.featured_until is None
    assert _balance(user) == 0


def test_not_enough_money_is_refused_and_nothing_changes(user, fund, featured):
    fund(user, 100_000)
    listing = ListingFactory(owner=user)

    with pytest.raises(Conflict) as exc:
        services.promotion_purchase(
            user=user, listing_id=listing.pk, product_code="featured-7"
        )

    assert exc.value.code == "insufficient_funds"
    listing.refresh_from_db()
    assert listing.featured_until is None
    assert _balance(user) == 100_000
    assert not PromotionPurchase.objects.exists()
    assert LedgerTransaction.objects.count() == 1  # the top-up


def test_someone_elses_listing_is_refused(user, other_user, fund, featured):
    fund(user, 500_000)
    theirs = ListingFactory(owner=other_user)
    their_draft = ListingFactory(owner=other_user, status=ListingStatus.DRAFT)

    with pytest.raises(PermissionDenied):
        services.promotion_purchase(
            user=user, listing_id=theirs.pk, product_code="featured-7"
        )
    with pytest.raises(NotFound):
        services.promotion_purchase(
            user=user, listing_id=their_draft.pk, product_code="featured-7"
        )

    assert _balance(user) == 500_000
    assert not Listing.objects.filter(featured_until__isnull=False).exists()


@pytest.mark.parametrize(
    "status", [ListingStatus.DRAFT, ListingStatus.SOLD, ListingStatus.EXPIRED]
)
def test_inactive_own_listing_is_refused(user, fund, featured, status):
    fund(user, 500_000)
    listing = ListingFactory(owner=user, status=status)

    with pytest.raises(Conflict) as exc:
        services.promotion_purchase(
            user=user, listing_id=listing.pk, product_code="featured-7"
        )

    assert exc.value.code == "listing_not_active"
    assert _balance(user) == 500_000


def test_listing_deactivated_after_the_check_rolls_the_debit_back(
    user, fund, featured, monkeypatch
):
    """listing_apply_promotion re-checks under its lock; its Conflict undoes
    the debit."""
    from wallet.services import promotions

    fund(user, 500_000)
    listing = ListingFactory(owner=user)
    real_access = promotions.access_listing_for_promotion

    def access_then_listing_sells(**kwargs):
        found = real_access(**kwargs)
        Listing.objects.filter(pk=found.pk).update(status=ListingStatus.SOLD)
        return found

    monkeypatch.setattr(
        promotions, "access_listing_for_promotion", access_then_listing_sells
    )
    with pytest.raises(Conflict):
        services.promotion_purchase(
            user=user, listing_id=listing.pk, product_code="featured-7"
        )

    assert _balance(user) == 500_000
    assert LedgerTransaction.objects.count() == 1
    assert not PromotionPurchase.objects.exists()


def test_unknown_or_inactive_product_is_not_found(user, fund, featured):
    fund(user, 500_000)
    listing = ListingFactory(owner=user)
    PromotionProduct.objects.filter(pk=featured.pk).update(is_active=False)

    for code in ("featured-7", "nope"):
        with pytest.raises(NotFound) as exc:
            services.promotion_purchase(
                user=user, listing_id=listing.pk, product_code=code
            )
        assert exc.value.field == "product"
    assert _balance(user) == 500_000


def test_expiry_job_ends_finished_promotions_once(user, fund, featured):
    fund(user, 500_000)
    listing = ListingFactory(owner=user)
    purchase = services.promotion_purchase(
        user=user, listing_id=listing.pk, product_code="featured-7"
    )
    later = purchase.ends_at + timedelta(minutes=1)

    assert (
        services.promotion_expire_ended(now=purchase.ends_at - timedelta(minutes=1))
        == 0
    )
    assert services.promotion_expire_ended(now=later) == 1
    assert services.promotion_expire_ended(now=later) == 0

    purchase.refresh_from_db()
    assert (purchase.status, purchase.ended_at) == (PromotionStatus.ENDED, later)


def test_expire_command_runs_the_job(user, fund, featured):
    from io import StringIO

    from django.core.management import call_command

    fund(user, 500_000)
    listing = ListingFactory(owner=user)
    purchase = services.promotion_purchase(
        user=user, listing_id=listing.pk, product_code="featured-7"
    )
    PromotionPurchase.objects.filter(pk=purchase.pk).update(
        ends_at=timezone.now() - timedelta(seconds=1)
    )
    out = StringIO()

    call_command("promotions_expire", stdout=out)

    assert out.getvalue().strip() == "1 promotion(s) ended."
    purchase.refresh_from_db()
    assert purchase.status == PromotionStatus.ENDED


def test_product_save_validates_and_audits_price_changes(featured, moderator):
    from django.core.exceptions import ValidationError

    featured.price = 200_000
    services.promotion_product_save(product=featured, actor=moderator)

    audit = AuditLogEntry.objects.get(action="promotion_product.save")
    assert (audit.data["price"], audit.data["previous_price"]) == (200_000, 150_000)
    featured.price = 0
    with pytest.raises(ValidationError):
        services.promotion_product_save(product=featured, actor=moderator)
    featured.refresh_from_db()
    assert featured.price == 200_000
