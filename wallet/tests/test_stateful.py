"""A Hypothesis state machine drives every money movement in random orders and
amounts (top-up, cancelled top-up, promotion purchase, hold, capture, release,
adjustment, and the refused ones) and checks the ledger against a simple model
after each step."""

import pytest
from django.test import override_settings
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    invariant,
    multiple,
    precondition,
    rule,
    run_state_machine_as_test,
)

from accounts.tests.factories import UserFactory
from core.errors import Conflict
from listings.tests.factories import ListingFactory
from wallet import services
from wallet.models import Hold, LedgerEntry, Wallet
from wallet.reconcile import ledger_reconcile
from wallet.tests.factories import PromotionProductFactory
from wallet.tests.helpers import deliver_sandbox_event

PRODUCTS = {"bump": 50_000, "featured-7": 150_000}
PEOPLE = st.sampled_from([0, 1])


class WalletMachine(RuleBasedStateMachine):
    holds = Bundle("holds")

    def __init__(self):
        super().__init__()
        self.users = [UserFactory(), UserFactory()]
        self.moderator = UserFactory(is_staff=True)
        self.listings = [ListingFactory(owner=u) for u in self.users]
        self.balance = [0, 0]
        self.held = [0, 0]
        self.settled = []
        self.references = 0

    def wallet(self, who) -> Wallet:
        return Wallet.objects.get(user=self.users[who])

    @rule(who=PEOPLE, amount=st.integers(10_000, 2_000_000), repeats=st.integers(1, 3))
    def top_up(self, who, amount, repeats):
        payment = services.payment_create(user=self.users[who], amount=amount)
        outcomes = [deliver_sandbox_event(payment) for _ in range(repeats)]
        assert outcomes == ["credited"] + ["already_paid"] * (repeats - 1)
        self.balance[who] += amount

    @rule(who=PEOPLE, amount=st.integers(10_000, 2_000_000))
    def declined_top_up(self, who, amount):
        payment = services.payment_create(user=self.users[who], amount=amount)
        assert deliver_sandbox_event(payment, "payment.declined") == "declined"

    @rule(who=PEOPLE, amount=st.integers(10_000, 2_000_000), paid=st.booleans())
    def cancelled_top_up(self, who, amount, paid):
        payment = services.payment_create(user=self.users[who], amount=amount)
        services.payment_cancel(user=self.users[who], payment_id=payment.pk)
        if paid:
            # Paid at the provider before its checkout closed: credited.
            assert deliver_sandbox_event(payment) == "credited"
            self.balance[who] += amount

    @rule(who=PEOPLE, code=st.sampled_from(sorted(PRODUCTS)))
    def purchase(self, who, code):
        price = PRODUCTS[code]
        try:
            services.promotion_purchase(
                user=self.users[who],
                listing_id=self.listings[who].pk,
                product_code=code,
            )
        except Conflict as exc:
            assert exc.code == "insufficient_funds"
            assert self.balance[who] < price
        else:
            assert self.balance[who] >= price
            self.balance[who] -= price

    @rule(target=holds, who=PEOPLE, amount=st.integers(1, 3_000_000))
    def hold(self, who, amount):
        self.references += 1
        try:
            hold = services.escrow_hold(
                user=self.users[who],
                amount=amount,
                reference=f"deal:{id(self)}:{self.references}",
            )
        except Conflict:
            assert self.balance[who] < amount
            return multiple()
        assert self.balance[who] >= amount
        self.balance[who] -= amount
        self.held[who] += amount
        return (hold.pk, who, amount)

    @rule(hold=consumes(holds), fee_percent=st.integers(0, 100))
    def capture(self, hold, fee_percent):
        pk, who, amount = hold
        seller = 1 - who
        fee = amount * fee_percent // 100
        services.escrow_capture(
            hold=Hold.objects.get(pk=pk), seller=self.users[seller], fee=fee
        )
        self.held[who] -= amount
        self.balance[seller] += amount - fee
        self.settled.append(pk)

    @rule(hold=consumes(holds))
    def release(self, hold):
        pk, who, amount = hold
        services.escrow_release(hold=Hold.objects.get(pk=pk))
        self.held[who] -= amount
        self.balance[who] += amount
        self.settled.append(pk)

    @precondition(lambda self: self.settled)
    @rule(data=st.data(), capture=st.booleans())
    def settle_again_is_refused(self, data, capture):
        pk = data.draw(st.sampled_from(self.settled))
        hold = Hold.objects.get(pk=pk)
        with pytest.raises(Conflict):
            if capture:
                services.escrow_capture(hold=hold, seller=self.users[0])
            else:
                services.escrow_release(hold=hold)

    @rule(who=PEOPLE, amount=st.integers(-2_000_000, 2_000_000).filter(bool))
    def adjustment(self, who, amount):
        try:
            services.wallet_adjust(
                wallet=self.wallet(who),
                amount=amount,
                reason="test",
                actor=self.moderator,
            )
        except Conflict:
            assert self.balance[who] + amount < 0
        else:
            assert self.balance[who] + amount >= 0
            self.balance[who] += amount

    @invariant()
    def ledger_matches_the_model(self):
        for who in (0, 1):
            wallet = self.wallet(who)
            assert (wallet.balance, wallet.held) == (self.balance[who], self.held[who])
            assert wallet.balance >= 0
            entries = LedgerEntry.objects.filter(wallet=wallet)
            assert sum(entries.values_list("amount", flat=True)) == wallet.balance
        assert sum(LedgerEntry.objects.values_list("amount", flat=True)) == 0
        report = ledger_reconcile()
        assert report.ok, report.problems


# The machine may start many top-ups per user; the limits on starting them
# have their own tests (test_payments.py and others) and would only cut runs
# short.
@override_settings(WALLET_TOP_UP_RATE_LIMIT_STARTS=0)
@pytest.mark.django_db
def test_ledger_invariants_hold_under_random_money_movements():
    for code, price in PRODUCTS.items():
        PromotionProductFactory(
            code=code, kind="bump" if code == "bump" else "featured", price=price
        )
    run_state_machine_as_test(
        WalletMachine,
        settings=settings(
            max_examples=15,
            stateful_step_count=20,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
