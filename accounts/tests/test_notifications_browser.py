"""The bell and the notifications page in a real browser (Debian's Chromium)."""

import os

import pytest
from django.test import Client

from accounts.models import NotificationKind
from accounts.services import notification_send

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def browser_page(live_server):
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
        )
        context = browser.new_context(base_url=live_server.url)
        yield context
        browser.close()


def test_bell_counts_down_as_notifications_are_opened(browser_page, live_server):
    from accounts.tests.factories import UserFactory

    user = UserFactory()
    for title in ("First", "Second", "Third"):
        notification_send(
            user=user,
            kind=NotificationKind.MESSAGE,
            title=title,
            url="/notifications/settings/",
        )
    client = Client()
    client.force_login(user)
    browser_page.add_cookies(
        [
            {
                "name": "sessionid",
                "value": client.cookies["sessionid"].value,
                "url": live_server.url,
            }
        ]
    )
    page = browser_page.new_page()

    page.goto("/notifications/")
    badge = page.locator("#notifications-badge")
    assert badge.inner_text() == "3"
    assert page.locator("li.notification.unread").count() == 3

    # opening one follows its link and marks it read
    page.get_by_role("link", name="Second").click()
    page.wait_for_url("**/notifications/settings/")
    assert badge.inner_text() == "2"

    # mark all read empties the bell
    page.goto("/notifications/")
    assert page.locator("li.notification.unread").count() == 2
    page.get_by_role("button", name="Mark all read").click()
    page.wait_for_url("**/notifications/")
    assert page.get_by_text("Marked 2 notifications as read.").is_visible()
    assert badge.is_hidden()
    assert page.locator("li.notification.unread").count() == 0

    # and the settings form saves a choice
    page.goto("/notifications/settings/")
    page.locator('input[name="message"][value="daily"]').check()
    page.get_by_role("button", name="Save settings").click()
    assert page.get_by_text("Your notification settings are saved.").is_visible()
    assert page.locator('input[name="message"][value="daily"]').is_checked()
