"""Sign-up, e-mail verification, login and lockout, driven through Chromium."""

import re

import pytest
from allauth.account.models import EmailAddress
from playwright.sync_api import expect

from accounts.models import User
from accounts.tests.factories import DEFAULT_PASSWORD

pytestmark = pytest.mark.browser

NEW_PASSWORD = "plum-Orchard-trellis-84"
WRONG_PASSWORD = "not-the-right-password-1"
TOO_MANY_ATTEMPTS = "Too many failed login attempts. Try again later."


def submit_login(page, live_url, *, email, password):
    page.goto(f"{live_url}/accounts/login/")
    form = page.locator("form:has(input[name=password])")
    form.locator("input[name=login]").fill(email)
    form.locator("input[name=password]").fill(password)
    form.locator("button[type=submit]").click()
    page.wait_for_load_state()


def test_sign_up_confirm_email_then_log_in(page, live_url, outbox):
    email = "new.seller@example.com"

    # Given a visitor signs up with e-mail and password
    page.goto(f"{live_url}/accounts/signup/")
    form = page.locator("form:has(input[name=password1])")
    form.locator("input[name=email]").fill(email)
    form.locator("input[name=display_name]").fill("New Seller")
    form.locator("input[name=password1]").fill(NEW_PASSWORD)
    form.locator("input[name=password2]").fill(NEW_PASSWORD)
    form.locator("button[type=submit]").click()
    expect(page).to_have_url(f"{live_url}/accounts/confirm-email/")
    assert EmailAddress.objects.get(email=email).verified is False

    # When they open the link from the e-mail and confirm
    link = outbox.link(to=email, contains="/accounts/confirm-email/", base_url=live_url)
    page.goto(link)
    page.locator("form[action*='/accounts/confirm-email/'] button[type=submit]").click()
    page.wait_for_load_state()

    # Then the address is verified, and they can log in and see their settings
    assert EmailAddress.objects.get(email=email).verified is True
    page.context.clear_cookies()
    submit_login(page, live_url, email=email, password=NEW_PASSWORD)
    expect(page).to_have_url(f"{live_url}/")
    page.goto(f"{live_url}/account/settings/")
    expect(page).to_have_url(f"{live_url}/account/settings/")
    expect(page.locator("main h1")).to_contain_text("settings")
    expect(page.locator("form[action='/accounts/logout/']")).to_have_count(1)
    assert User.objects.filter(email=email, is_active=True).count() == 1


def test_unverified_account_cannot_log_in_until_confirmed(page, live_url, outbox):
    email = "unverified@example.com"
    page.goto(f"{live_url}/accounts/signup/")
    form = page.locator("form:has(input[name=password1])")
    form.locator("input[name=email]").fill(email)
    form.locator("input[name=display_name]").fill("New Seller")
    form.locator("input[name=password1]").fill(NEW_PASSWORD)
    form.locator("input[name=password2]").fill(NEW_PASSWORD)
    form.locator("button[type=submit]").click()
    expect(page).to_have_url(f"{live_url}/accounts/confirm-email/")
    page.context.clear_cookies()

    submit_login(page, live_url, email=email, password=NEW_PASSWORD)

    # allauth sends another confirmation mail and keeps them out
    expect(page).to_have_url(f"{live_url}/accounts/confirm-email/")
    page.goto(f"{live_url}/account/settings/")
    assert page.url.startswith(f"{live_url}/accounts/login/")


def test_repeated_wrong_passwords_lock_the_account_out(page, live_url, user):
    # Given five failed attempts (the per-account limit is 5 in 5 minutes)
    for _attempt in range(5):
        submit_login(page, live_url, email=user.email, password=WRONG_PASSWORD)
        expect(page.locator("main")).to_contain_text(
            "The email address and/or password you specified are not correct."
        )

    # When they try again, even with the right password
    submit_login(page, live_url, email=user.email, password=WRONG_PASSWORD)
    expect(page.locator("main")).to_contain_text(TOO_MANY_ATTEMPTS)
    submit_login(page, live_url, email=user.email, password=DEFAULT_PASSWORD)

    # Then they are refused and stay logged out
    expect(page.locator("main")).to_contain_text(TOO_MANY_ATTEMPTS)
    expect(page).to_have_url(re.compile(r"/accounts/login/$"))
    page.goto(f"{live_url}/account/settings/")
    assert page.url.startswith(f"{live_url}/accounts/login/")


def test_correct_password_logs_in_after_a_few_mistakes(page, live_url, user):
    for _attempt in range(2):
        submit_login(page, live_url, email=user.email, password=WRONG_PASSWORD)

    submit_login(page, live_url, email=user.email, password=DEFAULT_PASSWORD)

    expect(page).to_have_url(f"{live_url}/")
    expect(page.locator(".account-menu summary")).to_have_text(user.public_name)
