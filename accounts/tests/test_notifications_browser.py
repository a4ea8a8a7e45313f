"""The bell and the notifications page in a real browser (Debian's Chromium)."""

import pytest
from playwright.sync_api import expect

from accounts.models import NotificationKind
from accounts.services import notification_send

pytestmark = pytest.mark.browser


def test_bell_counts_down_as_notifications_are_opened(page, live_url, login_as, user):
    for title in ("First", "Second", "Third"):
        notification_send(
            user=user,
            kind=NotificationKind.MESSAGE,
            title=title,
            url="/notifications/settings/",
        )
    login_as(user)

    page.goto(f"{live_url}/notifications/")
    badge = page.locator("#notifications-badge")
    expect(badge).to_have_text("3")
    expect(page.locator("li.notification.unread")).to_have_count(3)

    # opening one follows its link and marks it read
    page.get_by_role("link", name="Second").click()
    page.wait_for_url("**/notifications/settings/")
    expect(badge).to_have_text("2")

    # mark all read empties the bell
    page.goto(f"{live_url}/notifications/")
    expect(page.locator("li.notification.unread")).to_have_count(2)
    page.get_by_role("button", name="Mark all read").click()
    page.wait_for_url("**/notifications/")
    expect(page.get_by_text("Marked 2 notifications as read.")).to_be_visible()
    expect(badge).to_be_hidden()
    expect(page.locator("li.notification.unread")).to_have_count(0)

    # and the settings form saves a choice
    page.goto(f"{live_url}/notifications/settings/")
    page.locator('input[name="message"][value="daily"]').check()
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_text("Your notification settings are saved.")).to_be_visible()
    expect(page.locator('input[name="message"][value="daily"]')).to_be_checked()
    assert page.js_errors == []
