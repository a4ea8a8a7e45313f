"""A locked SQLite database: money services retry, then answer 503 with
Retry-After (API) or a message (pages); nothing is half-written."""

import pytest
from django.db import OperationalError

from core.errors import Busy
from wallet import services
from wallet.models import Payment
from wallet.services import ledger

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def locked_database(monkeypatch):
    """Every money transaction finds the database locked."""
    calls = []

    class Locked:
        def __enter__(self):
            calls.append(1)
            raise OperationalError("database is locked")

        def __exit__(self, *exc):
            return False

    monkeypatch.setattr(ledger, "BUSY_RETRY_SECONDS", 0.2)
    monkeypatch.setattr(ledger, "money_transaction", lambda idempotency=None: Locked())
    monkeypatch.setattr(
        "wallet.services.payments.money_transaction", lambda idempotency=None: Locked()
    )
    return calls


def test_service_retries_then_raises_busy(user, locked_database):
    with pytest.raises(Busy):
        services.payment_create(user=user, amount=100_000)
    assert len(locked_database) > 1
    assert not Payment.objects.exists()


def test_api_answers_503_with_retry_after(user, user_api_client, locked_database):
    response = user_api_client.post(
        "/api/v1/wallet/top-ups/", {"amount": 100_000}, format="json"
    )
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "1"
    assert response.json()["code"] == "busy"
    assert not Payment.objects.exists()


def test_a_locked_database_outside_a_service_is_503_too(
    user, user_api_client, monkeypatch
):
    def locked(**kwargs):
        raise OperationalError("database table is locked")

    monkeypatch.setattr("wallet.api.views.services.wallet_open", locked)
    response = user_api_client.get("/api/v1/wallet/")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "1"


def test_other_operational_errors_are_not_retried(user, monkeypatch):
    calls = []

    def broken(idempotency=None):
        calls.append(1)
        raise OperationalError("no such table: nope")

    monkeypatch.setattr("wallet.services.payments.money_transaction", broken)
    with pytest.raises(OperationalError):
        services.payment_create(user=user, amount=100_000)
    assert len(calls) == 1
