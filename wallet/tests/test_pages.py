import re

import pytest

from listings.models import ListingStatus
from listings.tests.factories import ListingFactory
from wallet import services
from wallet.models import Payment, PaymentStatus, PromotionPurchase, Wallet
from wallet.tests.helpers import deliver_sandbox_event

pytestmark = pytest.mark.django_db
NB = "\u00a0"


@pytest.fixture
def logged_in(client, user):
    client.force_login(user)
    return client


def _text(response):
    return response.content.decode()


def test_wallet_pages_need_login(client, user):
    payment = services.payment_create(user=user, amount=100_000)
    listing = ListingFactory(owner=user)
    for url in (
        "/wallet/",
        "/wallet/promotions/",
        f"/wallet/top-ups/{payment.pk}/",
        f"/wallet/promote/{listing.pk}/",
    ):
        response = client.get(url)
        assert response.status_code == 302, url
        assert "/accounts/login/" in response["Location"]
    assert client.post("/wallet/top-up/", {"amount": "5000"}).status_code == 302
    assert Payment.objects.count() == 1


def test_wallet_page_shows_balance_held_history_and_promotions(
    user, logged_in, fund, featured
):
    fund(user, 500_000)
    services.escrow_hold(user=user, amount=100_000, reference="deal:1")
    listing = ListingFactory(owner=user, title="Red bicycle")
    services.promotion_purchase(
        user=user, listing_id=listing.pk, product_code="featured-7"
    )

    html = _text(logged_in.get("/wallet/"))

    assert f"5{NB}000{NB}₸" in html  # balance = available + held
    assert f"2{NB}500{NB}₸" in html  # available after hold and purchase
    assert f"1{NB}000{NB}₸" in html  # held
    assert f"+5{NB}000{NB}₸" in html and f"\u22121{NB}500{NB}₸" in html
    assert "Featured: Red bicycle" in html
    assert 'data-purchase-id="' in html


def test_history_filters_and_pagination(user, logged_in, fund, featured, settings):
    settings.WALLET_TOP_UP_RATE_LIMIT_STARTS = 0  # 22 top-ups in a row
    for _ in range(22):
        fund(user, 10_000)
    listing = ListingFactory(owner=user)
    services.promotion_purchase(
        user=user, listing_id=listing.pk, product_code="featured-7"
    )

    first = _text(logged_in.get("/wallet/"))
    second = _text(logged_in.get("/wallet/?page=2"))
    outgoing = _text(logged_in.get("/wallet/?direction=out"))
    top_ups_page2 = _text(logged_in.get("/wallet/?kind=top_up&page=2"))

    assert first.count('class="ledger-row') == 20
    assert second.count('class="ledger-row') == 3
    assert "Page 1 of 2" in first
    assert "?page=2" in first
    assert outgoing.count('class="ledger-row') == 1
    assert top_ups_page2.count('class="ledger-row') == 2
    assert "?kind=top_up&amp;page=1" in top_ups_page2


def test_bad_history_filters_are_ignored_with_a_note(logged_in):
    response = logged_in.get("/wallet/?kind=nope&date_from=yesterday")
    assert response.status_code == 200
    assert "Some filters are not valid" in _text(response)


def test_wallet_page_query_count_does_not_grow(
    user, logged_in, fund, featured, django_assert_max_num_queries
):
    for _ in range(8):
        fund(user, 100_000)
    for _ in range(3):
        services.promotion_purchase(
            user=user,
            listing_id=ListingFactory(owner=user).pk,
            product_code="featured-7",
        )
    logged_in.get("/wallet/")  # the session's first request registers it
    # Session and user (2), the nav's two badges (2), then the page's own:
    # wallet, entry count, a page of entries with their transactions,
    # payments, promotions with listings (5).
    with django_assert_max_num_queries(9):
        response = logged_in.get("/wallet/")
    assert response.status_code == 200


def test_top_up_form_redirects_to_the_sandbox_checkout(user, logged_in):
    response = logged_in.post("/wallet/top-up/", {"amount": "5 000"})

    payment = Payment.objects.get(user=user)
    assert payment.amount == 500_000
    assert response.status_code == 302
    assert (
        response["Location"]
        == f"/payments/sandbox/checkout/{payment.provider_reference}/"
    )


@pytest.mark.parametrize("amount", ["0", "-5", "abc", "99", "500001", "12.345", ""])
def test_top_up_form_errors_are_shown_on_the_page(logged_in, amount):
    response = logged_in.post("/wallet/top-up/", {"amount": amount})

    assert response.status_code == 400
    assert 'class="errorlist' in _text(response)
    assert not Payment.objects.exists()


def test_top_up_form_past_the_pending_limit_says_why_on_the_page(
    user, logged_in, settings
):
    settings.WALLET_TOP_UP_MAX_PENDING = 1
    services.payment_create(user=user, amount=100_000)

    response = logged_in.post("/wallet/top-up/", {"amount": "5 000"})

    assert response.status_code == 409
    html = _text(response)
    assert '<ul class="errorlist nonfield"><li>You have 1 top-up waiting' in html
    assert "the oldest expires, in about 25 hours" in html
    assert Payment.objects.filter(user=user).count() == 1


def test_top_up_form_past_the_rate_limit_says_when_to_try_again(
    user, logged_in, settings, rate_limit_clock
):
    settings.WALLET_TOP_UP_RATE_LIMIT_STARTS = 1
    first = logged_in.post("/wallet/top-up/", {"amount": "5 000"})

    response = logged_in.post("/wallet/top-up/", {"amount": "5 000"})

    assert (first.status_code, response.status_code) == (302, 429)
    assert (
        '<ul class="errorlist nonfield"><li>You have started too many top-ups '
        "in a short time; try again in about 40 minutes.</li></ul>"
    ) in _text(response)
    assert Payment.objects.filter(user=user).count() == 1


def test_sandbox_checkout_approve_credits_and_shows_the_status(user, logged_in):
    payment = services.payment_create(user=user, amount=500_000)

    page = logged_in.get(payment.checkout_url)
    response = logged_in.post(payment.checkout_url, {"decision": "approve"})
    status_page = logged_in.get(f"/wallet/top-ups/{payment.pk}/")
    closed = logged_in.get(payment.checkout_url)

    assert "Approve payment" in _text(page)
    assert response["Location"] == f"/wallet/top-ups/{payment.pk}/"
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.PAID
    assert Wallet.objects.get(user=user).balance == 500_000
    assert "was added to your wallet" in _text(status_page)
    assert "This checkout is closed" in _text(closed)


def test_sandbox_checkout_decline_and_repeated_posts_credit_nothing(user, logged_in):
    payment = services.payment_create(user=user, amount=500_000)

    logged_in.post(payment.checkout_url, {"decision": "decline"})
    logged_in.post(payment.checkout_url, {"decision": "approve"})
    logged_in.post(payment.checkout_url, {"decision": "nonsense"})

    payment.refresh_from_db()
    assert payment.status == PaymentStatus.DECLINED
    assert Wallet.objects.get(user=user).balance == 0
    assert "Nothing was charged" in _text(
        logged_in.get(f"/wallet/top-ups/{payment.pk}/")
    )


def test_sandbox_checkout_unknown_session_is_404(client):
    assert client.get("/payments/sandbox/checkout/sbx_cs_nope/").status_code == 404


def test_pending_status_page_refreshes_itself(user, logged_in):
    payment = services.payment_create(user=user, amount=500_000)
    html = _text(logged_in.get(f"/wallet/top-ups/{payment.pk}/"))
    assert 'http-equiv="refresh"' in html
    assert "Continue to payment" in html
    deliver_sandbox_event(payment)
    assert 'http-equiv="refresh"' not in _text(
        logged_in.get(f"/wallet/top-ups/{payment.pk}/")
    )


def test_another_users_payment_page_is_404(other_user, logged_in):
    theirs = services.payment_create(user=other_user, amount=500_000)
    assert logged_in.get(f"/wallet/top-ups/{theirs.pk}/").status_code == 404


def test_promote_flow_choose_confirm_pay(user, logged_in, fund, featured, bump):
    fund(user, 500_000)
    listing = ListingFactory(owner=user, title="Red bicycle")

    choose = logged_in.get(f"/wallet/promote/{listing.pk}/")
    confirm = logged_in.post(
        f"/wallet/promote/{listing.pk}/", {"step": "confirm", "product": "featured-7"}
    )
    html = _text(confirm)
    key = re.search(r'name="idempotency_key" value="([0-9a-f]+)"', html).group(1)
    paid = logged_in.post(
        f"/wallet/promote/{listing.pk}/",
        {"step": "pay", "product": "featured-7", "idempotency_key": key},
    )
    double = logged_in.post(
        f"/wallet/promote/{listing.pk}/",
        {"step": "pay", "product": "featured-7", "idempotency_key": key},
    )

    assert "Featured" in _text(choose) and "Bump" in _text(choose)
    assert f"1{NB}500{NB}₸" in html  # the price
    assert f"3{NB}500{NB}₸" in html  # the balance after
    assert paid.status_code == 302 and paid["Location"] == "/wallet/promotions/"
    assert double.status_code == 302
    assert PromotionPurchase.objects.count() == 1
    assert Wallet.objects.get(user=user).balance == 350_000
    listing.refresh_from_db()
    assert listing.featured_until is not None
    promotions = _text(logged_in.get("/wallet/promotions/"))
    assert "Red bicycle" in promotions and "running" in promotions


def test_promote_confirm_without_enough_money_offers_a_top_up(
    user, logged_in, fund, featured
):
    fund(user, 100_000)
    listing = ListingFactory(owner=user)

    html = _text(
        logged_in.post(
            f"/wallet/promote/{listing.pk}/",
            {"step": "confirm", "product": "featured-7"},
        )
    )

    assert f"you need 500{NB}₸ more" in html
    assert 'action="/wallet/top-up/"' in html
    assert 'name="idempotency_key"' not in html


def test_promote_pay_without_enough_money_changes_nothing(user, logged_in, featured):
    listing = ListingFactory(owner=user)
    response = logged_in.post(
        f"/wallet/promote/{listing.pk}/",
        {"step": "pay", "product": "featured-7", "idempotency_key": "abc"},
        follow=True,
    )
    assert "Not enough money" in _text(response)
    assert not PromotionPurchase.objects.exists()


def test_promote_someone_elses_listing_is_refused(other_user, logged_in, featured):
    theirs = ListingFactory(owner=other_user)
    their_draft = ListingFactory(owner=other_user, status=ListingStatus.DRAFT)

    assert logged_in.get(f"/wallet/promote/{theirs.pk}/").status_code == 403
    assert (
        logged_in.post(
            f"/wallet/promote/{theirs.pk}/",
            {"step": "pay", "product": "featured-7", "idempotency_key": "k"},
        ).status_code
        == 403
    )
    assert logged_in.get(f"/wallet/promote/{their_draft.pk}/").status_code == 404
    assert logged_in.get("/wallet/promote/999999/").status_code == 404
    assert not PromotionPurchase.objects.exists()


def test_promote_inactive_listing_shows_why(user, logged_in, fund, featured):
    fund(user, 500_000)
    sold = ListingFactory(owner=user, status=ListingStatus.SOLD)

    page = logged_in.get(f"/wallet/promote/{sold.pk}/")
    post = logged_in.post(
        f"/wallet/promote/{sold.pk}/",
        {"step": "pay", "product": "featured-7", "idempotency_key": "k"},
    )

    assert "Only active listings can be promoted" in _text(page)
    assert post.status_code == 409
    assert Wallet.objects.get(user=user).balance == 500_000


def test_promote_with_an_unknown_product_is_a_form_error(user, logged_in, featured):
    listing = ListingFactory(owner=user)
    response = logged_in.post(
        f"/wallet/promote/{listing.pk}/", {"step": "confirm", "product": "nope"}
    )
    assert response.status_code == 400
    assert "errorlist" in _text(response)


def test_promotions_page_shows_views_and_favourites_before_and_now(
    user, logged_in, fund, featured
):
    from listings.models import Listing

    fund(user, 500_000)
    listing = ListingFactory(owner=user, view_count=10, favourite_count=1)
    services.promotion_purchase(
        user=user, listing_id=listing.pk, product_code="featured-7"
    )
    Listing.objects.filter(pk=listing.pk).update(view_count=55, favourite_count=7)

    html = _text(logged_in.get("/wallet/promotions/"))

    assert re.search(r"10 &rarr; <strong>55</strong>", html)
    assert re.search(r"1 &rarr; <strong>7</strong>", html)


# --- cancelling a top-up ------------------------------------------------------

CANCEL_FORM = 'class="top-up-cancel-form"'


def test_cancel_button_is_shown_for_pending_top_ups_only(user, logged_in, fund):
    paid = fund(user, 500_000)
    pending = services.payment_create(user=user, amount=100_000)

    home = _text(logged_in.get("/wallet/"))
    pending_page = _text(logged_in.get(f"/wallet/top-ups/{pending.pk}/"))
    paid_page = _text(logged_in.get(f"/wallet/top-ups/{paid.pk}/"))

    assert home.count(CANCEL_FORM) == 1
    assert f'action="/wallet/top-ups/{pending.pk}/cancel/"' in home
    assert f'action="/wallet/top-ups/{pending.pk}/cancel/"' in pending_page
    assert "Cancel top-up" in pending_page
    assert 'name="csrfmiddlewaretoken"' in pending_page
    assert CANCEL_FORM not in paid_page


def test_cancel_from_the_status_page_says_so_there(user, logged_in):
    payment = services.payment_create(user=user, amount=500_000)
    url = f"/wallet/top-ups/{payment.pk}/"

    response = logged_in.post(f"{url}cancel/", {"next": url})
    page = _text(logged_in.get(response["Location"]))

    assert (response.status_code, response["Location"]) == (302, url)
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.CANCELLED
    assert f"Top-up of 5{NB}000{NB}₸ cancelled." in page
    assert "You cancelled this top-up. Nothing was charged" in page
    assert CANCEL_FORM not in page
    assert 'http-equiv="refresh"' not in page


def test_cancel_from_the_wallet_page_goes_back_there(user, logged_in):
    payment = services.payment_create(user=user, amount=100_000)

    response = logged_in.post(
        f"/wallet/top-ups/{payment.pk}/cancel/", {"next": "/wallet/"}
    )
    page = _text(logged_in.get("/wallet/"))

    assert response["Location"] == "/wallet/"
    assert f"Top-up of 1{NB}000{NB}₸ cancelled." in page
    assert CANCEL_FORM not in page


def test_cancel_never_redirects_off_the_site(user, logged_in):
    payment = services.payment_create(user=user, amount=100_000)

    response = logged_in.post(
        f"/wallet/top-ups/{payment.pk}/cancel/", {"next": "https://evil.example/"}
    )

    assert response["Location"] == f"/wallet/top-ups/{payment.pk}/"


def test_cancel_of_a_top_up_that_no_longer_waits_shows_why(user, logged_in, fund):
    paid = fund(user, 500_000)

    response = logged_in.post(f"/wallet/top-ups/{paid.pk}/cancel/", follow=True)

    assert response.status_code == 200
    assert "This top-up is already paid: the money is in your wallet." in _text(
        response
    )
    paid.refresh_from_db()
    assert paid.status == PaymentStatus.PAID
    assert Wallet.objects.get(user=user).balance == 500_000


def test_cancel_someone_elses_top_up_is_404_and_needs_login_and_post(
    client, user, other_user, logged_in
):
    theirs = services.payment_create(user=other_user, amount=100_000)
    mine = services.payment_create(user=user, amount=100_000)

    assert logged_in.post(f"/wallet/top-ups/{theirs.pk}/cancel/").status_code == 404
    assert logged_in.get(f"/wallet/top-ups/{mine.pk}/cancel/").status_code == 405
    client.logout()
    anonymous = client.post(f"/wallet/top-ups/{mine.pk}/cancel/")
    assert anonymous.status_code == 302
    assert "/accounts/login/" in anonymous["Location"]
    assert set(Payment.objects.values_list("status", flat=True)) == {"pending"}


def test_sandbox_checkout_refuses_to_pay_a_cancelled_top_up(user, logged_in):
    payment = services.payment_create(user=user, amount=500_000)
    services.payment_cancel(user=user, payment_id=payment.pk)

    page = _text(logged_in.get(payment.checkout_url))
    logged_in.post(payment.checkout_url, {"decision": "approve"})

    assert "This checkout is closed: the payment is cancelled." in page
    assert "Approve payment" not in page
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.CANCELLED
    assert Wallet.objects.get(user=user).balance == 0
