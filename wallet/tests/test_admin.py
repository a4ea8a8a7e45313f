import pytest

from accounts.tests.factories import UserFactory
from core.models import AuditLogEntry
from wallet.models import LedgerEntry, PromotionProduct, Wallet

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser(db):
    return UserFactory(is_staff=True, is_superuser=True)


def test_moderator_sees_wallets_ledger_and_payments_read_only(
    client, moderator, user, fund
):
    fund(user, 500_000)
    wallet = Wallet.objects.get(user=user)
    entry = LedgerEntry.objects.filter(wallet=wallet).get()
    client.force_login(moderator)

    for url in (
        "/admin/wallet/wallet/",
        f"/admin/wallet/wallet/?q={user.email}",
        "/admin/wallet/wallet/?kind__exact=system",
        "/admin/wallet/ledgerentry/?transaction__kind__exact=top_up",
        "/admin/wallet/ledgertransaction/",
        "/admin/wallet/payment/",
        "/admin/wallet/paymentevent/",
        "/admin/wallet/promotionproduct/",
        "/admin/wallet/promotionpurchase/",
        "/admin/wallet/hold/",
        f"/admin/wallet/wallet/{wallet.pk}/change/",
        f"/admin/wallet/ledgerentry/{entry.pk}/change/",
    ):
        assert client.get(url).status_code == 200, url

    change = client.post(f"/admin/wallet/wallet/{wallet.pk}/change/", {"balance": 9})
    delete = client.post(
        f"/admin/wallet/ledgerentry/{entry.pk}/delete/", {"post": "yes"}
    )
    add = client.get("/admin/wallet/ledgerentry/add/")
    assert change.status_code == 403
    assert delete.status_code == 403
    assert add.status_code == 403
    wallet.refresh_from_db()
    assert wallet.balance == 500_000
    assert LedgerEntry.objects.filter(pk=entry.pk).exists()


def test_even_a_superuser_cannot_edit_or_delete_ledger_rows(
    client, superuser, user, fund
):
    fund(user, 500_000)
    entry = LedgerEntry.objects.filter(wallet__user=user).get()
    client.force_login(superuser)

    assert (
        client.post(
            f"/admin/wallet/ledgerentry/{entry.pk}/change/", {"amount": 1}
        ).status_code
        == 403
    )
    assert (
        client.post(
            f"/admin/wallet/ledgerentry/{entry.pk}/delete/", {"post": "yes"}
        ).status_code
        == 403
    )
    assert (
        client.post(
            f"/admin/wallet/ledgertransaction/{entry.transaction_id}/delete/",
            {"post": "yes"},
        ).status_code
        == 403
    )
    entry.refresh_from_db()
    assert entry.amount == 500_000


def test_moderator_adjusts_a_balance_with_a_reason(client, moderator, user, fund):
    fund(user, 500_000)
    wallet = Wallet.objects.get(user=user)
    client.force_login(moderator)
    url = f"/admin/wallet/wallet/{wallet.pk}/adjust/"

    form = client.get(url)
    missing_reason = client.post(url, {"amount": "1000", "reason": " "})
    too_much = client.post(url, {"amount": "-6000", "reason": "Chargeback"})
    done = client.post(url, {"amount": "-1500.50", "reason": "Chargeback #123"})

    assert form.status_code == 200
    assert (
        missing_reason.status_code == 200
        and "errorlist" in missing_reason.content.decode()
    )
    assert "Not enough money" in too_much.content.decode()
    assert done.status_code == 302
    wallet.refresh_from_db()
    assert wallet.balance == 500_000 - 150_050
    audit = AuditLogEntry.objects.get(action="wallet.adjust")
    assert (audit.actor, audit.reason, audit.data["amount"]) == (
        moderator,
        "Chargeback #123",
        -150_050,
    )


def test_staff_without_the_adjust_permission_cannot_adjust(client, user, fund):
    fund(user, 500_000)
    wallet = Wallet.objects.get(user=user)
    staff = UserFactory(is_staff=True)
    client.force_login(staff)

    response = client.post(
        f"/admin/wallet/wallet/{wallet.pk}/adjust/", {"amount": "1000", "reason": "x"}
    )

    assert response.status_code == 403
    wallet.refresh_from_db()
    assert wallet.balance == 500_000


def test_system_wallets_cannot_be_adjusted(client, moderator, user, fund):
    fund(user, 500_000)
    clearing = Wallet.objects.get(kind="system")
    client.force_login(moderator)
    response = client.post(
        f"/admin/wallet/wallet/{clearing.pk}/adjust/", {"amount": "1", "reason": "x"}
    )
    assert response.status_code == 404


def test_adjust_action_redirects_to_the_form_for_one_wallet(
    client, moderator, user, other_user
):
    wallets = [Wallet.objects.get(user=u) for u in (user, other_user)]
    client.force_login(moderator)

    one = client.post(
        "/admin/wallet/wallet/",
        {"action": "adjust_balance", "_selected_action": [wallets[0].pk]},
    )
    two = client.post(
        "/admin/wallet/wallet/",
        {"action": "adjust_balance", "_selected_action": [w.pk for w in wallets]},
        follow=True,
    )

    assert one["Location"] == f"/admin/wallet/wallet/{wallets[0].pk}/adjust/"
    assert "Select exactly one wallet" in two.content.decode()


def test_superuser_edits_promotion_prices_and_it_is_audited(
    client, superuser, featured
):
    client.force_login(superuser)
    response = client.post(
        f"/admin/wallet/promotionproduct/{featured.pk}/change/",
        {
            "code": "featured-7",
            "kind": "featured",
            "name": "Featured",
            "description": "Stands out.",
            "price": "200000",
            "currency": "KZT",
            "duration_days": "7",
            "is_active": "on",
            "order": "0",
        },
    )
    assert response.status_code == 302
    featured.refresh_from_db()
    assert featured.price == 200_000
    assert (
        AuditLogEntry.objects.get(action="promotion_product.save").data[
            "previous_price"
        ]
        == 150_000
    )


def test_moderator_cannot_change_prices(client, moderator, featured):
    client.force_login(moderator)
    response = client.post(
        f"/admin/wallet/promotionproduct/{featured.pk}/change/", {"price": "1"}
    )
    assert response.status_code == 403
    assert PromotionProduct.objects.get(pk=featured.pk).price == 150_000


def test_payments_filter_by_the_cancelled_status_and_stay_read_only(
    client, moderator, user
):
    from wallet import services
    from wallet.models import Payment

    kept = services.payment_create(user=user, amount=100_000)
    cancelled = services.payment_create(user=user, amount=200_000)
    services.payment_cancel(user=user, payment_id=cancelled.pk)
    client.force_login(moderator)

    listing = client.get("/admin/wallet/payment/?status__exact=cancelled")
    change = client.post(
        f"/admin/wallet/payment/{cancelled.pk}/change/", {"status": "pending"}
    )

    assert listing.status_code == 200
    assert "?status__exact=cancelled" in listing.content.decode()  # the filter
    assert [p.pk for p in listing.context["cl"].result_list] == [cancelled.pk]
    assert change.status_code == 403
    assert dict(Payment.objects.values_list("pk", "status")) == {
        kept.pk: "pending",
        cancelled.pk: "cancelled",
    }
