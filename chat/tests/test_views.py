import pytest
from django.urls import reverse

from accounts.tests.factories import UserFactory
from chat import services
from chat.models import Block, Conversation, Message, Report
from chat.tests.factories import ConversationFactory, MessageFactory
from core.models import AuditLogEntry
from listings.models import ListingStatus
from listings.tests.factories import ListingFactory


@pytest.fixture
def as_user(client):
    def login(user):
        client.force_login(user)
        return client

    return login


def test_inbox_shows_conversations(as_user, seller, conversation):
    response = as_user(seller).get("/messages/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "Red bicycle" in html
    assert "Bea Buyer" in html
    assert "Hi, is it available?" in html
    assert 'class="badge inbox-unread">1<' in html
    assert 'id="unread-messages-badge" data-count="1"' in html


def test_inbox_needs_login(client):
    response = client.get("/messages/")

    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_inbox_query_count(as_user, seller, django_assert_max_num_queries):
    for _ in range(6):
        convo = ConversationFactory(listing=ListingFactory(owner=seller), seller=seller)
        message = MessageFactory(conversation=convo)
        Conversation.objects.filter(pk=convo.pk).update(
            last_message=message, last_message_at=message.created_at
        )
    client = as_user(seller)

    with django_assert_max_num_queries(14):  # constant: 9 reads + savepoints
        response = client.get("/messages/")

    assert response.content.decode().count('class="inbox-row') == 6


def test_inbox_is_paginated(as_user, seller, conversation, monkeypatch):
    monkeypatch.setattr("chat.views.INBOX_PAGE_SIZE", 1)
    newer, _ = services.conversation_start(
        user=UserFactory(), listing_id=ListingFactory(owner=seller).pk, text="Newer"
    )
    client = as_user(seller)

    first = client.get("/messages/").content.decode()
    second = client.get("/messages/?page=2").content.decode()

    assert f'data-conversation="{newer.pk}"' in first
    assert f'data-conversation="{conversation.pk}"' not in first
    assert f'data-conversation="{conversation.pk}"' in second
    assert 'href="?page=2"' in first


def test_archived_tab(as_user, seller, conversation):
    services.conversation_archive(user=seller, conversation=conversation)
    client = as_user(seller)

    inbox = client.get("/messages/").content.decode()
    archived = client.get("/messages/?archived=1").content.decode()

    assert "Red bicycle" not in inbox
    assert "Red bicycle" in archived


def test_conversation_page_marks_read(as_user, seller, conversation):
    response = as_user(seller).get(f"/messages/{conversation.pk}/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "Hi, is it available?" in html
    assert 'id="chat"' in html
    assert "Red bicycle" in html
    assert Message.objects.get().read_at is not None


def test_conversation_page_escapes_html_and_links(as_user, buyer, seller, conversation):
    services.message_send(
        user=buyer,
        conversation=conversation,
        text="<script>alert(1)</script> see https://example.org/x",
    )

    html = as_user(seller).get(f"/messages/{conversation.pk}/").content.decode()

    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert '<a href="https://example.org/x" rel="nofollow">' in html


def test_warning_shown_to_receiver_only(as_user, buyer, seller, conversation, client):
    services.message_send(
        user=buyer, conversation=conversation, text="Pay at https://paypal.me/bea"
    )

    seller_html = as_user(seller).get(f"/messages/{conversation.pk}/").content.decode()
    client.logout()
    buyer_html = as_user(buyer).get(f"/messages/{conversation.pk}/").content.decode()

    assert "Pay only through safe deal: money sent" in seller_html
    assert "Pay only through safe deal: money sent" not in buyer_html


def test_outsider_gets_404(as_user, outsider, conversation):
    client = as_user(outsider)

    assert client.get(f"/messages/{conversation.pk}/").status_code == 404
    assert (
        client.post(f"/messages/{conversation.pk}/", {"text": "x"}).status_code == 404
    )
    assert client.post(f"/messages/{conversation.pk}/block/").status_code == 404
    assert client.post(f"/messages/{conversation.pk}/archive/").status_code == 404
    assert client.get(f"/messages/{conversation.pk}/report/").status_code == 404
    assert Message.objects.count() == 1
    assert Block.objects.count() == 0


def test_send_with_form_post(as_user, seller, conversation):
    response = as_user(seller).post(
        f"/messages/{conversation.pk}/", {"text": "Yes!", "client_id": "form-1"}
    )

    assert response.status_code == 302
    assert response["Location"] == f"/messages/{conversation.pk}/#composer"
    assert Message.objects.filter(sender=seller, text="Yes!").count() == 1


def test_double_submit_stores_once(as_user, seller, conversation):
    client = as_user(seller)
    data = {"text": "Once", "client_id": "form-2"}

    client.post(f"/messages/{conversation.pk}/", data)
    client.post(f"/messages/{conversation.pk}/", data)

    assert Message.objects.filter(sender=seller).count() == 1


def test_empty_send_shows_form_error(as_user, seller, conversation):
    response = as_user(seller).post(f"/messages/{conversation.pk}/", {"text": "  "})

    assert response.status_code == 400
    assert "Write a message or attach a photo." in response.content.decode()
    assert Message.objects.count() == 1


def test_send_photo_with_form(as_user, seller, conversation, png_upload):
    response = as_user(seller).post(
        f"/messages/{conversation.pk}/", {"text": "", "image": png_upload()}
    )

    assert response.status_code == 302
    message = Message.objects.get(sender=seller)
    assert message.image_width == 40


def test_older_messages_paginate_backwards(as_user, seller, conversation):
    ids = [
        MessageFactory(conversation=conversation, text=f"old {i}").pk for i in range(35)
    ]
    client = as_user(seller)

    latest = client.get(f"/messages/{conversation.pk}/").content.decode()
    older = client.get(f"/messages/{conversation.pk}/?before={ids[5]}").content.decode()

    assert f"?before={ids[5]}" in latest
    assert "old 34" in latest
    assert "old 4" in older
    assert "old 5<" not in older
    assert "Hi, is it available?" in older


def test_start_page_and_post(as_user, buyer, listing):
    client = as_user(buyer)

    page = client.get(f"/messages/start/{listing.pk}/")
    response = client.post(
        f"/messages/start/{listing.pk}/", {"text": "Hello", "client_id": "st-1"}
    )

    assert page.status_code == 200
    assert "Message Sam Seller" in page.content.decode()
    convo = Conversation.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/messages/{convo.pk}/"
    assert convo.last_message.text == "Hello"


def test_start_redirects_to_existing_conversation(
    as_user, buyer, listing, conversation
):
    response = as_user(buyer).get(f"/messages/start/{listing.pk}/")

    assert response.status_code == 302
    assert response["Location"] == f"/messages/{conversation.pk}/"


def test_start_own_listing_redirects_to_inbox(as_user, seller, listing):
    response = as_user(seller).post(f"/messages/start/{listing.pk}/", {"text": "x"})

    assert response.status_code == 302
    assert response["Location"] == "/messages/"
    assert Conversation.objects.count() == 0


def test_start_unknown_or_draft_listing_is_404(as_user, buyer, seller):
    draft = ListingFactory(owner=seller, status=ListingStatus.DRAFT)
    client = as_user(buyer)

    assert client.get("/messages/start/999999/").status_code == 404
    assert client.get(f"/messages/start/{draft.pk}/").status_code == 404


def test_start_sold_listing_shows_error(as_user, buyer, seller):
    sold = ListingFactory(owner=seller, status=ListingStatus.SOLD)

    response = as_user(buyer).post(f"/messages/start/{sold.pk}/", {"text": "x"})

    assert response.status_code == 400
    assert "This listing is no longer available." in response.content.decode()
    assert Conversation.objects.count() == 0


def test_block_from_conversation_and_unblock_from_settings(
    as_user, buyer, seller, conversation
):
    client = as_user(seller)

    client.post(f"/messages/{conversation.pk}/block/")
    page = client.get(f"/messages/{conversation.pk}/").content.decode()
    blocked_page = client.get("/account/blocked/").content.decode()

    assert Block.objects.filter(blocker=seller, blocked=buyer).exists()
    assert "You blocked Bea Buyer" in page
    assert 'id="composer"' not in page
    assert "Bea Buyer" in blocked_page

    client.post(f"/account/blocked/{buyer.pk}/unblock/")

    assert not Block.objects.exists()


def test_blocked_user_sees_no_composer(as_user, buyer, seller, conversation):
    services.user_block(user=seller, blocked_user_id=buyer.pk)

    page = as_user(buyer).get(f"/messages/{conversation.pk}/").content.decode()
    response = as_user(buyer).post(f"/messages/{conversation.pk}/", {"text": "hi"})

    assert "does not accept messages from you" in page
    assert response.status_code == 400
    assert Message.objects.count() == 1


def test_archive_from_conversation(as_user, seller, conversation):
    response = as_user(seller).post(
        f"/messages/{conversation.pk}/archive/", {"archived": "1"}
    )

    assert response.status_code == 302
    assert conversation.participants.get(user=seller).is_archived is True


def test_report_page(as_user, buyer, conversation):
    client = as_user(buyer)

    page = client.get(f"/messages/{conversation.pk}/report/")
    bad = client.post(f"/messages/{conversation.pk}/report/", {"reason": "zzz"})
    ok = client.post(
        f"/messages/{conversation.pk}/report/", {"reason": "spam", "details": "ads"}
    )
    again = client.post(f"/messages/{conversation.pk}/report/", {"reason": "spam"})

    assert page.status_code == 200
    assert bad.status_code == 400
    assert ok.status_code == 302
    assert again.status_code == 400
    assert "You already reported this conversation." in again.content.decode()
    assert Report.objects.count() == 1


def test_settings_page_links_blocked_users(as_user, buyer):
    html = as_user(buyer).get(reverse("accounts:settings")).content.decode()

    assert 'href="/account/blocked/"' in html


# --- moderation in the admin --------------------------------------------------------


def test_conversations_are_not_in_the_admin(as_user, moderator):
    client = as_user(moderator)

    assert client.get("/admin/chat/conversation/").status_code == 404
    assert client.get("/admin/chat/message/").status_code == 404


def test_moderator_reads_reported_conversation_and_it_is_audited(
    as_user, moderator, buyer, conversation
):
    report = services.conversation_report(
        user=buyer, conversation=conversation, reason="scam"
    )
    client = as_user(moderator)

    listing = client.get("/admin/chat/report/")
    page = client.get(f"/admin/chat/report/{report.pk}/change/")

    assert listing.status_code == 200
    assert page.status_code == 200
    assert "Hi, is it available?" in page.content.decode()
    entry = AuditLogEntry.objects.get(action="chat.moderator_view")
    assert entry.actor == moderator
    assert entry.target_id == str(conversation.pk)
    assert entry.data == {"report_id": report.pk}


def test_moderator_resolves_reports_with_action(
    as_user, moderator, buyer, conversation
):
    report = services.conversation_report(
        user=buyer, conversation=conversation, reason="spam"
    )

    as_user(moderator).post(
        "/admin/chat/report/",
        {"action": "resolve_selected", "_selected_action": [report.pk]},
    )

    report.refresh_from_db()
    assert report.status == "resolved"
    assert report.resolved_by == moderator


def test_ordinary_user_cannot_open_reports(as_user, buyer, conversation):
    report = services.conversation_report(
        user=buyer, conversation=conversation, reason="spam"
    )

    response = as_user(buyer).get(f"/admin/chat/report/{report.pk}/change/")

    assert response.status_code == 302
    assert not AuditLogEntry.objects.filter(action="chat.moderator_view").exists()
