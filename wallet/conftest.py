"""Wallet fixtures. After every wallet test that touched the database the
ledger must reconcile: stored balances equal the sums of their entries, every
transaction balances, holds and payments agree with the ledger."""

import pytest

from wallet.tests.factories import PromotionProductFactory

_DB_FIXTURES = {"db", "transactional_db", "django_db_reset_sequences", "live_server"}


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Test users hash their password in microseconds, not a second each."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


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


try:  # The infra harness (tests/browser/fixtures.py) provides page/live_url/login_as.
    import tests.browser.fixtures  # noqa: F401
except ImportError:  # Until it is merged: a minimal stand-in with the same names.
    import os

    @pytest.fixture
    def page():
        from playwright.sync_api import sync_playwright

        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path="/usr/bin/chromium",
                args=[
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                    "--disable-dev-shm-usage",
                ],
            )
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            context.set_default_timeout(10_000)
            yield context.new_page()
            browser.close()
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)

    @pytest.fixture
    def live_url(live_server):
        return live_server.url

    @pytest.fixture
    def login_as(page):
        def _login(user):
            from django.conf import settings
            from django.test import Client

            client = Client()
            client.force_login(user)
            page.context.add_cookies(
                [
                    {
                        "name": settings.SESSION_COOKIE_NAME,
                        "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                        "domain": host,
                        "path": "/",
                    }
                    for host in ("localhost", "127.0.0.1")
                ]
            )
            return user

        return _login
