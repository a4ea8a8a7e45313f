"""Buyer and seller chat live in two browser contexts against the harness's
ASGI live server (daphne on the test database; see tests/browser/fixtures.py)."""

import pytest
from playwright.sync_api import expect

from accounts.tests.factories import UserFactory
from chat.services import conversation_start
from listings.tests.factories import ListingFactory

pytestmark = pytest.mark.browser

# What crosses the websockets gets more than expect's default 5 s on a busy machine.
LIVE_MS = 10_000


def test_buyer_and_seller_chat_live(page, new_context, login_as, asgi_live_server):
    seller = UserFactory(display_name="Sam Seller")
    buyer = UserFactory(display_name="Bea Buyer")
    listing = ListingFactory(owner=seller, title="Red bicycle")
    conversation, _ = conversation_start(
        user=buyer, listing_id=listing.pk, text="Hi there"
    )
    login_as(buyer)
    seller_context = new_context()
    login_as(seller, context=seller_context)
    inbox_url = f"{asgi_live_server.url}/messages/"
    conversation_url = f"{inbox_url}{conversation.pk}/"
    buyer_page = page
    seller_page = seller_context.new_page()

    # The seller sits on the inbox: one unread message.
    seller_page.goto(inbox_url)
    seller_badge = seller_page.locator("#unread-messages-badge")
    expect(seller_badge).to_have_text("1")

    # The buyer opens the conversation and writes; the seller's badge moves.
    buyer_page.goto(conversation_url)
    expect(buyer_page.locator("#chat")).to_have_attribute("data-live", "1")
    buyer_page.fill("#composer textarea", "Is the price negotiable?")
    buyer_page.keyboard.press("Enter")
    expect(buyer_page.locator(".chat-message.mine").last).to_contain_text(
        "Is the price negotiable?"
    )
    expect(seller_badge).to_have_text("2", timeout=LIVE_MS)

    # The seller opens it: read ticks appear for the buyer, badge clears.
    seller_page.goto(conversation_url)
    expect(seller_page.locator("#chat")).to_have_attribute("data-live", "1")
    expect(seller_page.locator("#unread-messages-badge")).to_be_hidden()
    expect(buyer_page.locator(".chat-message.mine .ticks.read").last).to_be_visible(
        timeout=LIVE_MS
    )

    # Typing indicator, then a live reply.
    seller_page.locator("#composer textarea").press_sequentially("Yes, a little")
    expect(buyer_page.locator("#chat-typing")).to_be_visible(timeout=LIVE_MS)
    seller_page.keyboard.press("Enter")
    expect(buyer_page.locator(".chat-message.theirs").last).to_contain_text(
        "Yes, a little", timeout=LIVE_MS
    )
    expect(buyer_page.locator("#chat-typing")).to_be_hidden()
    expect(seller_page.locator(".chat-message.mine").last).to_contain_text(
        "Yes, a little"
    )

    # After a reload both messages are there: the database is the truth.
    buyer_page.reload()
    texts = buyer_page.locator(".chat-message .text").all_inner_texts()
    assert texts == ["Hi there", "Is the price negotiable?", "Yes, a little"]
    assert buyer_page.js_errors == []
    assert seller_page.js_errors == []
