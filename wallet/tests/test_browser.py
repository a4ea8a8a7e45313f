"""Top up through the sandbox checkout, buy a featured promotion, see the
listing in the home page's featured strip and both movements in the history."""

import pytest
from playwright.sync_api import expect

from listings.tests.factories import ListingFactory
from wallet.models import PaymentStatus, PromotionPurchase, Wallet

pytestmark = pytest.mark.browser
NB = "\u00a0"


def test_top_up_buy_featured_and_see_it_on_home(
    page, live_url, login_as, user, featured
):
    # Given a seller with an active listing and an empty wallet
    listing = ListingFactory(owner=user, title="Vintage film camera")
    login_as(user)

    # When they top up 5 000 ₸ and approve on the sandbox provider's checkout
    page.goto(f"{live_url}/wallet/")
    expect(page.get_by_test_id("wallet-balance")).to_have_text(f"0{NB}₸")
    page.locator("form.top-up-form input[name=amount]").fill("5000")
    page.locator("form.top-up-form button[type=submit]").click()
    expect(page.locator(".sandbox-checkout")).to_contain_text(f"5{NB}000{NB}₸")
    page.get_by_role("button", name="Approve payment").click()

    # Then the payment page says paid and the wallet holds the money
    expect(page.get_by_test_id("payment-status")).to_have_text("Paid")
    assert user.payments.get().status == PaymentStatus.PAID
    page.goto(f"{live_url}/wallet/")
    expect(page.get_by_test_id("wallet-balance")).to_have_text(f"5{NB}000{NB}₸")

    # When they promote the listing from its page: choose, confirm, pay
    page.goto(f"{live_url}/listings/{listing.pk}/")
    page.get_by_role("link", name="Promote").first.click()
    expect(page).to_have_url(f"{live_url}/wallet/promote/{listing.pk}/")
    page.locator("label.product-choice", has_text="Featured").click()
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_test_id("confirm-price")).to_have_text(f"1{NB}500{NB}₸")
    expect(page.get_by_test_id("confirm-balance-after")).to_have_text(f"3{NB}500{NB}₸")
    page.get_by_role("button", name=f"Pay 1{NB}500{NB}₸").click()

    # Then the promotion runs and the listing is in the home page's featured strip
    expect(page).to_have_url(f"{live_url}/wallet/promotions/")
    expect(page.locator(".promotion-row")).to_contain_text("Vintage film camera")
    assert PromotionPurchase.objects.get().listing_id == listing.pk
    page.goto(f"{live_url}/")
    featured_strip = page.locator("section[aria-labelledby=featured-heading]")
    expect(featured_strip).to_contain_text("Vintage film camera")

    # And the wallet's history shows both movements with running balances
    page.goto(f"{live_url}/wallet/#history")
    rows = page.locator("tr.ledger-row")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("Featured: Vintage film camera")
    expect(rows.nth(0)).to_contain_text(f"\u22121{NB}500{NB}₸")
    expect(rows.nth(0)).to_contain_text(f"3{NB}500{NB}₸")
    expect(rows.nth(1)).to_contain_text(f"+5{NB}000{NB}₸")
    assert Wallet.objects.get(user=user).balance == 350_000
