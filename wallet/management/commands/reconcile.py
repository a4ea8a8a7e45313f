"""manage.py reconcile: recompute every wallet balance from the ledger."""

from django.core.management.base import BaseCommand, CommandError

from wallet.reconcile import ledger_reconcile


class Command(BaseCommand):
    help = (
        "Recompute every wallet balance from the ledger entries and check the "
        "ledger's invariants; exits non-zero and lists each difference."
    )

    def handle(self, *args, **options):
        report = ledger_reconcile()
        summary = (
            f"{report.wallets} wallets, {report.transactions} transactions, "
            f"{report.entries} entries checked"
        )
        if report.ok:
            self.stdout.write(self.style.SUCCESS(f"Ledger OK: {summary}."))
            return
        for problem in report.problems:
            self.stderr.write(self.style.ERROR(f"DIFFERENCE: {problem}"))
        raise CommandError(
            f"Ledger does NOT reconcile: {len(report.problems)} difference(s); "
            f"{summary}.",
            returncode=2,
        )
