from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from wallet.models import Wallet
from wallet.reconcile import ledger_reconcile

pytestmark = pytest.mark.django_db


def test_reconcile_passes_on_a_healthy_ledger(user, other_user, fund):
    fund(user, 500_000)
    fund(other_user, 100_000)
    out = StringIO()

    call_command("reconcile", stdout=out)

    assert "Ledger OK" in out.getvalue()


def _set_balance(wallet_pk, balance):
    # Behind the services' back, as a bug or a hand-edit in the database would.
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE wallet_wallet SET balance = %s WHERE id = %s", [balance, wallet_pk]
        )


def test_reconcile_reports_a_tampered_balance_loudly(user, fund):
    fund(user, 500_000)
    wallet = Wallet.objects.get(user=user)
    _set_balance(wallet.pk, 600_000)
    err = StringIO()
    try:
        with pytest.raises(CommandError) as exc:
            call_command("reconcile", stderr=err)
        report = ledger_reconcile()
    finally:
        _set_balance(wallet.pk, 500_000)

    # manage.py exits with CommandError.returncode: a failed cron job.
    assert exc.value.returncode == 2
    assert f"wallet {wallet.pk}" in err.getvalue()
    assert "stored balance 600000 != sum of entries 500000" in err.getvalue()
    assert not report.ok
    assert ledger_reconcile().ok


def test_reconcile_task_fails_loudly(user, fund, caplog):
    from wallet.tasks import reconcile_ledger

    fund(user, 100_000)
    wallet = Wallet.objects.get(user=user)
    _set_balance(wallet.pk, 5)
    try:
        with pytest.raises(RuntimeError, match="does not reconcile"):
            reconcile_ledger.apply().get()
    finally:
        _set_balance(wallet.pk, 100_000)
    assert "LEDGER DIFFERENCE" in caplog.text
