import pytest
from django.db import IntegrityError, connection, transaction

from accounts.models import Notification
from accounts.tests.factories import UserFactory
from core.errors import Conflict, ValidationError
from core.models import AuditLogEntry
from wallet import services
from wallet.models import (
    LedgerEntry,
    LedgerTransaction,
    SystemAccount,
    TransactionKind,
    Wallet,
    WalletKind,
)
from wallet.services.ledger import (
    lock_wallets,
    money_transaction,
    post_transaction,
    system_wallet,
)

pytestmark = pytest.mark.django_db


def test_every_new_user_gets_an_empty_wallet_in_the_site_currency(settings):
    user = UserFactory()

    wallet = Wallet.objects.get(user=user)
    assert (wallet.kind, wallet.currency, wallet.balance, wallet.held) == (
        WalletKind.USER,
        settings.SITE_CURRENCY,
        0,
        0,
    )


def test_wallet_open_returns_the_same_wallet(user):
    first = services.wallet_open(user=user)
    second = services.wallet_open(user=user)
    assert first.pk == second.pk
    assert Wallet.objects.filter(user=user).count() == 1


def test_wallet_open_creates_a_missing_wallet_on_first_use(user):
    Wallet.objects.filter(user=user).delete()
    wallet = services.wallet_open(user=user)
    assert wallet.balance == 0


def test_top_up_writes_a_balanced_transaction_with_running_balance(user, fund):
    fund(user, 500_000)
    fund(user, 100_000)

    wallet = Wallet.objects.get(user=user)
    assert wallet.balance == 600_000
    entries = list(LedgerEntry.objects.filter(wallet=wallet).order_by("pk"))
    assert [(e.amount, e.balance_after) for e in entries] == [
        (500_000, 500_000),
        (100_000, 600_000),
    ]
    clearing = Wallet.objects.get(system_account=SystemAccount.PAYMENT_CLEARING)
    assert clearing.balance == -600_000
    for txn in LedgerTransaction.objects.all():
        assert sum(e.amount for e in txn.entries.all()) == 0
        assert txn.entries.count() == 2


def test_post_transaction_refuses_unbalanced_or_single_legs(user):
    wallet = services.wallet_open(user=user)
    fees = system_wallet(SystemAccount.PLATFORM_FEES)
    with money_transaction():
        locked = lock_wallets(wallet, fees)
        with pytest.raises(ValueError, match="sum to zero"):
            post_transaction(
                kind=TransactionKind.ADJUSTMENT,
                legs=[(locked[wallet.pk], 5), (locked[fees.pk], -4)],
                description="broken",
            )
        with pytest.raises(ValueError, match="at least two"):
            post_transaction(
                kind=TransactionKind.ADJUSTMENT,
                legs=[(locked[wallet.pk], 0), (locked[fees.pk], 0)],
                description="empty",
            )
    assert LedgerTransaction.objects.count() == 0


def test_the_database_refuses_a_negative_user_balance(user):
    wallet = services.wallet_open(user=user)
    with pytest.raises(IntegrityError), transaction.atomic():
        Wallet.objects.filter(pk=wallet.pk).update(balance=-1)
    wallet.refresh_from_db()
    assert wallet.balance == 0


def test_system_wallets_may_go_negative(db):
    clearing = system_wallet(SystemAccount.PAYMENT_CLEARING)
    with transaction.atomic():
        Wallet.objects.filter(pk=clearing.pk).update(balance=-5)
        Wallet.objects.filter(pk=clearing.pk).update(balance=0)


def test_ledger_rows_cannot_be_changed_or_deleted_through_the_orm(user, fund):
    fund(user, 100_000)
    entry = LedgerEntry.objects.filter(wallet__user=user).get()
    txn = entry.transaction

    entry.amount = 1
    with pytest.raises(TypeError, match="append-only"):
        entry.save()
    with pytest.raises(TypeError, match="append-only"):
        entry.delete()
    with pytest.raises(TypeError, match="append-only"):
        LedgerEntry.objects.filter(pk=entry.pk).update(amount=1)
    with pytest.raises(TypeError, match="append-only"):
        LedgerEntry.objects.filter(pk=entry.pk).delete()
    with pytest.raises(TypeError, match="append-only"):
        LedgerTransaction.objects.filter(pk=txn.pk).update(description="x")
    with pytest.raises(TypeError, match="append-only"):
        txn.delete()

    entry.refresh_from_db()
    assert entry.amount == 100_000


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="database triggers are PostgreSQL's"
)
def test_postgres_itself_refuses_updates_and_deletes_of_ledger_rows(user, fund):
    fund(user, 100_000)
    entry = LedgerEntry.objects.filter(wallet__user=user).get()
    for sql in (
        "UPDATE wallet_ledgerentry SET amount = 1 WHERE id = %s",
        "DELETE FROM wallet_ledgerentry WHERE id = %s",
        "UPDATE wallet_ledgertransaction SET description = 'x' WHERE id = %s",
    ):
        pk = entry.pk if "entry" in sql else entry.transaction_id
        with (
            pytest.raises(Exception, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql, [pk])
    entry.refresh_from_db()
    assert entry.amount == 100_000


def test_a_user_with_money_history_cannot_be_deleted(user, fund):
    from django.db.models import ProtectedError

    fund(user, 100_000)
    with pytest.raises(ProtectedError):
        user.delete()
    assert LedgerEntry.objects.filter(wallet__user=user).count() == 1


def test_a_user_without_history_can_be_deleted_with_their_empty_wallet(user):
    user.delete()
    assert not Wallet.objects.filter(kind=WalletKind.USER).exists()


def test_adjustment_credits_and_debits_with_reason_audit_and_notification(
    user, moderator, fund
):
    fund(user, 100_000)
    wallet = Wallet.objects.get(user=user)

    services.wallet_adjust(
        wallet=wallet,
        amount=50_000,
        reason="Goodwill for a late delivery",
        actor=moderator,
    )
    services.wallet_adjust(
        wallet=wallet, amount=-20_000, reason="Correction", actor=moderator
    )

    wallet.refresh_from_db()
    assert wallet.balance == 130_000
    txns = LedgerTransaction.objects.filter(kind=TransactionKind.ADJUSTMENT).order_by(
        "pk"
    )
    assert [t.created_by for t in txns] == [moderator, moderator]
    adjustments = Wallet.objects.get(system_account=SystemAccount.ADJUSTMENTS)
    assert adjustments.balance == -30_000
    audits = AuditLogEntry.objects.filter(action="wallet.adjust").order_by("pk")
    assert [(a.actor, a.reason, a.data["amount"]) for a in audits] == [
        (moderator, "Goodwill for a late delivery", 50_000),
        (moderator, "Correction", -20_000),
    ]
    assert audits[0].actor_repr == f"{moderator} (#{moderator.pk})"
    assert Notification.objects.filter(
        user=user, kind="wallet", body="Correction"
    ).exists()


@pytest.mark.parametrize(
    ("amount", "reason", "field"),
    [
        (0, "why", "amount"),
        (1.5, "why", "amount"),
        (True, "why", "amount"),
        (10, "  ", "reason"),
    ],
)
def test_adjustment_needs_a_whole_amount_and_a_reason(
    user, moderator, amount, reason, field
):
    wallet = services.wallet_open(user=user)
    with pytest.raises(ValidationError) as exc:
        services.wallet_adjust(
            wallet=wallet, amount=amount, reason=reason, actor=moderator
        )
    assert exc.value.field == field
    assert LedgerTransaction.objects.count() == 0


def test_adjustment_cannot_take_a_balance_below_zero(user, moderator, fund):
    fund(user, 100_000)
    wallet = Wallet.objects.get(user=user)
    with pytest.raises(Conflict) as exc:
        services.wallet_adjust(
            wallet=wallet, amount=-100_001, reason="too much", actor=moderator
        )
    assert exc.value.code == "insufficient_funds"
    wallet.refresh_from_db()
    assert wallet.balance == 100_000
    assert not AuditLogEntry.objects.filter(action="wallet.adjust").exists()


def test_money_services_refuse_to_run_inside_another_transaction(
    user, moderator, settings
):
    wallet = services.wallet_open(user=user)
    with pytest.raises(RuntimeError, match="durable"), transaction.atomic():
        services.wallet_adjust(
            wallet=wallet, amount=100, reason="nested", actor=moderator
        )
