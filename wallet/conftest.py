"""Wallet fixtures. After every wallet test that touched the database the
ledger must reconcile: stored balances equal the sums of their entries, every
transaction balances, holds and payments agree with the ledger."""

import pytest

from wallet.tests.factories import PromotionProductFactory

_DB_FIXTURES = {"db", "transactional_db", "django_db_reset_sequences", "live_server"}


@pytest.fixture(autouse=True)
def _ledger_reconciles_after_test(request):
    marker = request.node.get_closest_marker("django_db")
    names = set(request.fixturenames)
    if marker is None and not names & _DB_FIXTURES:
        yield
        return
    transactional = bool(
        marker and (marker.kwargs.get("transaction") or marker.args[:1] == (True,))
    ) or bool(names & {"transactional_db", "live_server"})
    # Set the database up before this fixture, so it is checked before the
    # test's transaction is rolled back or the tables flushed.
    request.getfixturevalue("transactional_db" if transactional else "db")
    yield
    from wallet.reconcile import ledger_reconcile

    report = ledger_reconcile()
    assert report.ok, "ledger does not reconcile:\n" + "\n".join(report.problems)


@pytest.fixture
def featured(db):
    return PromotionProductFactory(
        code="featured-7", kind="featured", name="Featured", price=150_000
    )


@pytest.fixture
def bump(db):
    return PromotionProductFactory(code="bump", kind="bump", name="Bump", price=50_000)


@pytest.fixture
def top(db):
    return PromotionProductFactory(
        code="top-7", kind="top", name="Top of search", price=300_000
    )


@pytest.fixture
def fund():
    """fund(user, amount): top the user's wallet up through the sandbox
    provider's real path (pending payment, signed webhook, credit)."""
    from wallet.tests.helpers import top_up_through_sandbox

    return top_up_through_sandbox


class _Clock:
    """A stand-in for the `time` module of the rate limiter: `time()` reads
    `now`, which a test may move on."""

    def __init__(self, now: float):
        self.now = now

    def time(self) -> float:
        return self.now


# 20 minutes into an hour-long rate-limit window (1_800_000_000 = 500 000 h).
RATE_LIMIT_CLOCK_START = 1_800_000_000 + 20 * 60


@pytest.fixture
def rate_limit_clock(monkeypatch):
    """Pin the clock the top-up rate limit counts windows by, so a test never
    straddles two windows and knows the wait exactly (40 minutes by default
    settings)."""
    clock = _Clock(RATE_LIMIT_CLOCK_START)
    monkeypatch.setattr("core.ratelimit.time", clock)
    return clock
