"""Buyer and seller chat live in two browser contexts against a real daphne.

The server runs in a subprocess on a SpatiaLite file database, seeded through
the same services the site uses, so this test needs no PostGIS or Redis.
"""

import json
import os
import subprocess
import sys

import pytest

from chat.tests.live import BASE_DIR, Daphne, server_env

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

SEED = """
import json
from django.test import Client
from accounts.tests.factories import UserFactory
from listings.tests.factories import ListingFactory
from chat.services import conversation_start

seller = UserFactory(display_name="Sam Seller")
buyer = UserFactory(display_name="Bea Buyer")
listing = ListingFactory(owner=seller, title="Red bicycle")
convo, _ = conversation_start(user=buyer, listing_id=listing.pk, text="Hi there")

def session(user):
    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value

print("SEED" + json.dumps({
    "conversation": convo.pk,
    "buyer": session(buyer),
    "seller": session(seller),
}))
"""


@pytest.fixture(scope="module")
def live_chat(tmp_path_factory):
    folder = tmp_path_factory.mktemp("chat-live")
    env = server_env(
        DATABASE_URL=f"spatialite:///{folder / 'db.sqlite3'}",
        MEDIA_ROOT=folder / "media",
        CELERY_TASK_ALWAYS_EAGER="true",
    )
    manage = [sys.executable, str(BASE_DIR / "manage.py")]
    subprocess.run([*manage, "migrate", "-v0"], env=env, check=True, cwd=BASE_DIR)
    seeded = subprocess.run(
        [*manage, "shell", "-c", SEED],
        env=env,
        check=True,
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
    )
    line = next(x for x in seeded.stdout.splitlines() if x.startswith("SEED"))
    data = json.loads(line[4:])
    server = Daphne(env=env, log_path=folder / "daphne.log")
    try:
        server.wait_ready()
        yield server, data
    finally:
        server.stop()


@pytest.fixture(scope="module")
def chromium():
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


def _context(browser, server, session):
    context = browser.new_context(base_url=server.url)
    context.add_cookies([{"name": "sessionid", "value": session, "url": server.url}])
    return context


def test_buyer_and_seller_chat_live(live_chat, chromium, tmp_path):
    from playwright.sync_api import expect

    server, data = live_chat
    convo_path = f"/messages/{data['conversation']}/"
    buyer = _context(chromium, server, data["buyer"]).new_page()
    seller = _context(chromium, server, data["seller"]).new_page()
    try:
        # The seller sits on the inbox: one unread message.
        seller.goto("/messages/")
        seller_badge = seller.locator("#unread-messages-badge")
        expect(seller_badge).to_have_text("1")

        # The buyer opens the conversation and writes; the seller's badge moves.
        buyer.goto(convo_path)
        expect(buyer.locator("#chat")).to_have_attribute("data-live", "1")
        buyer.fill("#composer textarea", "Is the price negotiable?")
        buyer.keyboard.press("Enter")
        expect(buyer.locator(".chat-message.mine").last).to_contain_text(
            "Is the price negotiable?"
        )
        expect(seller_badge).to_have_text("2", timeout=10_000)

        # The seller opens it: read ticks appear for the buyer, badge clears.
        seller.goto(convo_path)
        expect(seller.locator("#chat")).to_have_attribute("data-live", "1")
        expect(seller.locator("#unread-messages-badge")).to_be_hidden()
        expect(buyer.locator(".chat-message.mine .ticks.read").last).to_be_visible(
            timeout=10_000
        )

        # Typing indicator, then a live reply.
        seller.locator("#composer textarea").press_sequentially("Yes, a little")
        expect(buyer.locator("#chat-typing")).to_be_visible(timeout=10_000)
        seller.keyboard.press("Enter")
        reply = buyer.locator(".chat-message.theirs").last
        expect(reply).to_contain_text("Yes, a little", timeout=10_000)
        expect(buyer.locator("#chat-typing")).to_be_hidden()
        expect(seller.locator(".chat-message.mine").last).to_contain_text(
            "Yes, a little"
        )

        # After a reload both messages are there: the database is the truth.
        buyer.reload()
        texts = buyer.locator(".chat-message .text").all_inner_texts()
        assert texts == ["Hi there", "Is the price negotiable?", "Yes, a little"]
    except Exception:
        os.makedirs("test-results", exist_ok=True)
        buyer.screenshot(path="test-results/chat-buyer.png")
        seller.screenshot(path="test-results/chat-seller.png")
        raise
