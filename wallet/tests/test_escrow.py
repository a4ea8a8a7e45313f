import pytest

from core.errors import Conflict, ValidationError
from wallet import services
from wallet.models import HoldStatus, SystemAccount, Wallet

pytestmark = pytest.mark.django_db


def _wallet(user):
    return Wallet.objects.get(user=user)


def _system(account):
    return Wallet.objects.get(system_account=account).balance


def test_hold_moves_money_into_escrow_and_reduces_available(user, fund):
    fund(user, 500_000)

    hold = services.escrow_hold(user=user, amount=200_000, reference="deal:1")

    wallet = _wallet(user)
    assert (wallet.balance, wallet.held, wallet.total) == (300_000, 200_000, 500_000)
    assert hold.status == HoldStatus.HELD
    assert _system(SystemAccount.ESCROW) == 200_000


def test_hold_with_the_same_reference_is_returned_not_repeated(user, fund):
    fund(user, 500_000)
    first = services.escrow_hold(user=user, amount=200_000, reference="deal:1")

    again = services.escrow_hold(user=user, amount=200_000, reference="deal:1")
    with pytest.raises(Conflict):
        services.escrow_hold(user=user, amount=100_000, reference="deal:1")

    assert again.pk == first.pk
    assert _wallet(user).held == 200_000


def test_hold_needs_available_money(user, fund):
    fund(user, 100_000)
    with pytest.raises(Conflict) as exc:
        services.escrow_hold(user=user, amount=100_001, reference="deal:1")
    assert exc.value.code == "insufficient_funds"
    assert (_wallet(user).balance, _wallet(user).held) == (100_000, 0)


def test_capture_pays_the_seller_minus_the_fee(user, other_user, fund):
    fund(user, 500_000)
    hold = services.escrow_hold(user=user, amount=200_000, reference="deal:1")

    captured = services.escrow_capture(hold=hold, seller=other_user, fee=10_000)

    buyer, seller = _wallet(user), _wallet(other_user)
    assert (buyer.balance, buyer.held) == (300_000, 0)
    assert seller.balance == 190_000
    assert _system(SystemAccount.PLATFORM_FEES) == 10_000
    assert _system(SystemAccount.ESCROW) == 0
    assert (captured.status, captured.fee, captured.beneficiary_id) == (
        HoldStatus.CAPTURED,
        10_000,
        seller.pk,
    )


def test_release_returns_the_money_to_the_buyer(user, fund):
    fund(user, 500_000)
    hold = services.escrow_hold(user=user, amount=200_000, reference="deal:1")

    services.escrow_release(hold=hold)

    wallet = _wallet(user)
    assert (wallet.balance, wallet.held) == (500_000, 0)
    assert _system(SystemAccount.ESCROW) == 0


def test_a_hold_settles_exactly_once(user, other_user, fund):
    fund(user, 500_000)
    hold = services.escrow_hold(user=user, amount=200_000, reference="deal:1")
    services.escrow_capture(hold=hold, seller=other_user)

    with pytest.raises(Conflict):
        services.escrow_capture(hold=hold, seller=other_user)
    with pytest.raises(Conflict):
        services.escrow_release(hold=hold)

    assert _wallet(other_user).balance == 200_000
    assert _wallet(user).balance == 300_000


@pytest.mark.parametrize("fee", [-1, 200_001, 1.5])
def test_capture_refuses_bad_fees(user, other_user, fund, fee):
    fund(user, 500_000)
    hold = services.escrow_hold(user=user, amount=200_000, reference="deal:1")
    with pytest.raises(ValidationError):
        services.escrow_capture(hold=hold, seller=other_user, fee=fee)
    hold.refresh_from_db()
    assert hold.status == HoldStatus.HELD


def test_capture_to_oneself_keeps_held_and_balance_right(user, fund):
    fund(user, 500_000)
    hold = services.escrow_hold(user=user, amount=200_000, reference="deal:1")

    services.escrow_capture(hold=hold, seller=user, fee=0)

    wallet = _wallet(user)
    assert (wallet.balance, wallet.held) == (500_000, 0)


def test_another_buyer_cannot_reuse_a_hold_reference(user, other_user, fund):
    fund(user, 500_000)
    fund(other_user, 500_000)
    services.escrow_hold(user=user, amount=100_000, reference="deal:7")

    with pytest.raises(Conflict) as exc:
        services.escrow_hold(user=other_user, amount=100_000, reference="deal:7")

    assert exc.value.code == "hold_exists"
    assert (_wallet(other_user).balance, _wallet(other_user).held) == (500_000, 0)
