"""Reconciliation: recompute every balance from the ledger and report any
difference. Read-only; run by `manage.py reconcile` and a periodic job."""

from dataclasses import dataclass, field

from django.db.models import Count, F, OuterRef, Q, Subquery, Sum, Value, Window
from django.db.models.functions import Coalesce

from wallet.models import (
    Hold,
    HoldStatus,
    LedgerEntry,
    LedgerTransaction,
    Payment,
    PaymentStatus,
    SystemAccount,
    TransactionKind,
    Wallet,
    WalletKind,
)


@dataclass
class ReconcileReport:
    wallets: int = 0
    transactions: int = 0
    entries: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _sum_of(qs, column="amount"):
    return Coalesce(
        Subquery(qs.values(column).annotate(s=Sum(column)).values("s")[:1]), Value(0)
    )


def ledger_reconcile() -> ReconcileReport:
    """Check every invariant of the ledger; the report lists each difference."""
    report = ReconcileReport(
        wallets=Wallet.objects.count(),
        transactions=LedgerTransaction.objects.count(),
        entries=LedgerEntry.objects.count(),
    )
    problems = report.problems

    entry_sum = (
        LedgerEntry.objects.filter(wallet=OuterRef("pk"))
        .order_by()
        .values("wallet")
        .annotate(s=Sum("amount"))
        .values("s")[:1]
    )
    for wallet in Wallet.objects.annotate(
        ledger=Coalesce(Subquery(entry_sum), Value(0))
    ).exclude(balance=F("ledger")):
        problems.append(
            f"wallet {wallet.pk} ({wallet}): stored balance {wallet.balance} "
            f"!= sum of entries {wallet.ledger}"
        )

    for wallet in Wallet.objects.filter(kind=WalletKind.USER, balance__lt=0):
        problems.append(f"wallet {wallet.pk} ({wallet}): negative balance")

    running = LedgerEntry.objects.annotate(
        running=Window(
            Sum("amount"), partition_by=[F("wallet_id")], order_by=F("id").asc()
        )
    )
    for entry in running.exclude(running=F("balance_after")).order_by("pk")[:50]:
        problems.append(
            f"entry {entry.pk} (wallet {entry.wallet_id}): running balance "
            f"{entry.running} != recorded balance_after {entry.balance_after}"
        )

    unbalanced = (
        LedgerTransaction.objects.annotate(
            total=Coalesce(Sum("entries__amount"), Value(0)), legs=Count("entries")
        )
        .filter(~Q(total=0) | Q(legs__lt=2))
        .order_by("pk")
    )
    for txn in unbalanced[:50]:
        problems.append(
            f"transaction {txn.pk}: {txn.legs} entries summing to {txn.total} "
            "(needs two or more summing to zero)"
        )

    mixed = LedgerEntry.objects.exclude(wallet__currency=F("transaction__currency"))
    for entry in mixed.order_by("pk")[:50]:
        problems.append(
            f"entry {entry.pk}: wallet currency differs from its transaction's"
        )

    totals = (
        LedgerEntry.objects.order_by()
        .values("wallet__currency")
        .annotate(total=Sum("amount"))
        .exclude(total=0)
    )
    for row in totals:
        problems.append(
            f"all entries in {row['wallet__currency']} sum to {row['total']}, not 0"
        )

    open_holds = (
        Hold.objects.filter(wallet=OuterRef("pk"), status=HoldStatus.HELD)
        .order_by()
        .values("wallet")
        .annotate(s=Sum("amount"))
        .values("s")[:1]
    )
    for wallet in (
        Wallet.objects.filter(kind=WalletKind.USER)
        .annotate(open_held=Coalesce(Subquery(open_holds), Value(0)))
        .exclude(held=F("open_held"))
    ):
        problems.append(
            f"wallet {wallet.pk} ({wallet}): held {wallet.held} != open holds "
            f"{wallet.open_held}"
        )

    currency_holds = (
        Hold.objects.filter(currency=OuterRef("currency"), status=HoldStatus.HELD)
        .order_by()
        .values("currency")
        .annotate(s=Sum("amount"))
        .values("s")[:1]
    )
    for escrow in (
        Wallet.objects.filter(
            kind=WalletKind.SYSTEM, system_account=SystemAccount.ESCROW
        )
        .annotate(open_held=Coalesce(Subquery(currency_holds), Value(0)))
        .exclude(balance=F("open_held"))
    ):
        problems.append(
            f"escrow {escrow.currency}: balance {escrow.balance} != open holds "
            f"{escrow.open_held}"
        )

    for payment in Payment.objects.filter(
        status=PaymentStatus.PAID, ledger_transaction__isnull=True
    ):
        problems.append(f"payment {payment.pk}: paid but never credited")
    for txn in LedgerTransaction.objects.filter(kind=TransactionKind.TOP_UP).exclude(
        payment__status=PaymentStatus.PAID
    ):
        problems.append(f"transaction {txn.pk}: top-up without a paid payment")
    return report
