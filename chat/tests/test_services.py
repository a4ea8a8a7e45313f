import time
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from PIL import Image

from accounts.models import Notification, User
from accounts.services import user_ban
from chat import events, selectors, services
from chat.models import Block, Conversation, Message, Participant, Report
from chat.presence import presence_is_online, presence_remove, presence_touch
from core.errors import Conflict, NotFound, PermissionDenied, RateLimited
from core.errors import ValidationError as DomainValidationError
from core.models import AuditLogEntry
from listings.models import ListingStatus
from listings.tests.factories import ListingFactory


def _state(conversation, user):
    return Participant.objects.get(conversation=conversation, user=user)


def test_first_message_creates_conversation_with_both_participants(buyer, listing):
    convo, message = services.conversation_start(
        user=buyer, listing_id=listing.pk, text="  Hello!  ", client_id="c-1"
    )

    assert convo.buyer == buyer
    assert convo.seller == listing.owner
    assert message.text == "Hello!"
    assert message.sender == buyer
    assert convo.last_message_id == message.pk
    assert _state(convo, listing.owner).unread_count == 1
    assert _state(convo, buyer).unread_count == 0
    assert _state(convo, buyer).last_read_message_id == message.pk


def test_second_start_reuses_the_conversation(buyer, listing, conversation):
    again, _message = services.conversation_start(
        user=buyer, listing_id=listing.pk, text="Still there?"
    )

    assert again.pk == conversation.pk
    assert Conversation.objects.count() == 1
    assert Message.objects.filter(conversation=conversation).count() == 2
    assert _state(conversation, listing.owner).unread_count == 2


def test_nobody_messages_their_own_listing(seller, listing):
    with pytest.raises(DomainValidationError):
        services.conversation_start(user=seller, listing_id=listing.pk, text="Me")

    assert Conversation.objects.count() == 0
    assert Message.objects.count() == 0


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (ListingStatus.DRAFT, NotFound),
        (ListingStatus.REJECTED, NotFound),
        (ListingStatus.SOLD, Conflict),
        (ListingStatus.ARCHIVED, Conflict),
    ],
)
def test_no_new_conversation_about_unavailable_listing(buyer, seller, status, error):
    listing = ListingFactory(owner=seller, status=status)

    with pytest.raises(error):
        services.conversation_start(user=buyer, listing_id=listing.pk, text="Hi")

    assert Conversation.objects.count() == 0


def test_existing_conversation_continues_after_listing_sold(
    buyer, listing, conversation
):
    listing.status = ListingStatus.SOLD
    listing.save()

    again, message = services.conversation_start(
        user=buyer, listing_id=listing.pk, text="Thanks!"
    )

    assert again.pk == conversation.pk
    assert message.text == "Thanks!"


def test_missing_listing_is_not_found(buyer):
    with pytest.raises(NotFound):
        services.conversation_start(user=buyer, listing_id=999999, text="Hi")


def test_outsider_cannot_send(outsider, conversation):
    with pytest.raises(NotFound):
        services.message_send(user=outsider, conversation=conversation, text="Hey")

    assert Message.objects.filter(sender=outsider).count() == 0


def test_access_conversation_only_for_participants(
    buyer, seller, outsider, conversation
):
    assert selectors.access_conversation(buyer, conversation.pk) == conversation
    assert selectors.access_conversation(seller, conversation.pk) == conversation
    with pytest.raises(NotFound):
        selectors.access_conversation(outsider, conversation.pk)
    with pytest.raises(NotFound):
        selectors.access_conversation(buyer, "abc")


def test_same_client_id_is_stored_once(buyer, conversation):
    first, created = services.message_send(
        user=buyer, conversation=conversation, text="Once", client_id="abc-123"
    )
    again, created_again = services.message_send(
        user=buyer, conversation=conversation, text="Once", client_id="abc-123"
    )

    assert created is True
    assert created_again is False
    assert again.pk == first.pk
    assert Message.objects.filter(client_id="abc-123").count() == 1
    assert _state(conversation, conversation.seller).unread_count == 2


def _lose_the_client_id_race(monkeypatch):
    # The first check saw no message with the client_id; another connection
    # stored one just before the insert, which the unique constraint refuses.
    monkeypatch.setattr(
        selectors, "message_send_checks", lambda **kwargs: (True, None, None)
    )


def test_client_id_race_returns_the_stored_message(buyer, conversation, monkeypatch):
    first, _ = services.message_send(
        user=buyer, conversation=conversation, text="A", client_id="race"
    )
    _lose_the_client_id_race(monkeypatch)

    again, created = services.message_send(
        user=buyer, conversation=conversation, text="A", client_id="race"
    )

    assert (again.pk, created) == (first.pk, False)
    assert Message.objects.filter(client_id="race").count() == 1
    assert _state(conversation, buyer).last_read_message_id == first.pk


@pytest.mark.django_db(transaction=True)
def test_client_id_race_outside_a_transaction(buyer, conversation, monkeypatch):
    # Outside any transaction PostgreSQL stores a text message in one statement.
    first, _ = services.message_send(
        user=buyer, conversation=conversation, text="A", client_id="race"
    )
    _lose_the_client_id_race(monkeypatch)

    again, created = services.message_send(
        user=buyer, conversation=conversation, text="A", client_id="race"
    )

    assert (again.pk, created) == (first.pk, False)
    assert Message.objects.filter(client_id="race").count() == 1
    conversation.refresh_from_db()
    assert conversation.last_message_id == first.pk


def test_client_id_reused_for_another_conversation_conflicts(buyer, conversation):
    other_listing = ListingFactory()
    services.conversation_start(
        user=buyer, listing_id=other_listing.pk, text="Hi", client_id="dup"
    )

    with pytest.raises(Conflict):
        services.message_send(
            user=buyer, conversation=conversation, text="x", client_id="dup"
        )

    assert Message.objects.filter(client_id="dup").count() == 1


def test_two_users_may_use_the_same_client_id(buyer, seller, conversation):
    services.message_send(
        user=buyer, conversation=conversation, text="a", client_id="k"
    )
    services.message_send(
        user=seller, conversation=conversation, text="b", client_id="k"
    )

    assert Message.objects.filter(client_id="k").count() == 2


@pytest.mark.parametrize("text", ["", "   ", "\u200b\u200b"])
def test_empty_message_is_refused(buyer, conversation, text):
    with pytest.raises(DomainValidationError) as exc:
        services.message_send(user=buyer, conversation=conversation, text=text)

    assert exc.value.field == "text"
    assert Message.objects.count() == 1


def test_too_long_message_is_refused(buyer, conversation, settings):
    settings.CHAT_MESSAGE_MAX_LENGTH = 10

    with pytest.raises(DomainValidationError):
        services.message_send(user=buyer, conversation=conversation, text="x" * 11)

    assert Message.objects.count() == 1


def test_html_is_stored_as_text(buyer, conversation):
    message, _ = services.message_send(
        user=buyer, conversation=conversation, text="<b>hi</b>\x00\x07"
    )

    assert message.text == "<b>hi</b>"


def test_blocked_sender_is_refused(buyer, seller, conversation):
    services.user_block(user=seller, blocked_user_id=buyer.pk)

    with pytest.raises(PermissionDenied):
        services.message_send(user=buyer, conversation=conversation, text="Hello?")

    assert Message.objects.filter(conversation=conversation).count() == 1


def test_blocker_must_unblock_to_write(buyer, seller, conversation):
    services.user_block(user=seller, blocked_user_id=buyer.pk)

    with pytest.raises(Conflict):
        services.message_send(user=seller, conversation=conversation, text="Hi")

    services.user_unblock(user=seller, blocked_user_id=buyer.pk)
    message, _ = services.message_send(
        user=seller, conversation=conversation, text="Hi"
    )
    assert message.pk


def test_blocked_buyer_cannot_start_conversation(buyer, seller, listing):
    services.user_block(user=seller, blocked_user_id=buyer.pk)

    with pytest.raises(PermissionDenied):
        services.conversation_start(user=buyer, listing_id=listing.pk, text="Hi")

    assert Conversation.objects.count() == 0


def test_block_is_idempotent_and_audited(buyer, seller):
    services.user_block(user=seller, blocked_user_id=buyer.pk)
    services.user_block(user=seller, blocked_user_id=buyer.pk)

    assert Block.objects.filter(blocker=seller, blocked=buyer).count() == 1
    assert AuditLogEntry.objects.filter(action="chat.user_block").count() == 1


def test_cannot_block_self_or_nobody(seller):
    with pytest.raises(DomainValidationError):
        services.user_block(user=seller, blocked_user_id=seller.pk)
    with pytest.raises(NotFound):
        services.user_block(user=seller, blocked_user_id=424242)

    assert Block.objects.count() == 0


def test_unblock_of_unblocked_user_returns_false(buyer, seller):
    assert services.user_unblock(user=seller, blocked_user_id=buyer.pk) is False


def test_block_and_unblock_tell_both_users_sockets_on_commit(
    buyer, seller, django_capture_on_commit_callbacks
):
    with events.deferred() as outbox:
        with django_capture_on_commit_callbacks(execute=True):
            services.user_block(user=seller, blocked_user_id=buyer.pk)
        blocked = list(outbox)
        outbox.clear()
        with django_capture_on_commit_callbacks(execute=True):
            services.user_unblock(user=seller, blocked_user_id=buyer.pk)

    event = {"type": "chat.block", "user_ids": [seller.pk, buyer.pk]}
    assert blocked == [
        (f"chat.sockets.{seller.pk}", {**event, "blocked_by": seller.pk}),
        (f"chat.sockets.{buyer.pk}", {**event, "blocked_by": seller.pk}),
    ]
    assert outbox == [
        (f"chat.sockets.{seller.pk}", {**event, "blocked_by": None}),
        (f"chat.sockets.{buyer.pk}", {**event, "blocked_by": None}),
    ]


def test_unblock_while_the_other_still_blocks_announces_their_block(
    buyer, seller, django_capture_on_commit_callbacks
):
    services.user_block(user=buyer, blocked_user_id=seller.pk)
    services.user_block(user=seller, blocked_user_id=buyer.pk)

    with (
        events.deferred() as outbox,
        django_capture_on_commit_callbacks(execute=True),
    ):
        services.user_unblock(user=seller, blocked_user_id=buyer.pk)

    assert [event["blocked_by"] for _group, event in outbox] == [buyer.pk, buyer.pk]


def test_ban_closes_the_users_sockets_on_commit_only(
    moderator, buyer, django_capture_on_commit_callbacks
):
    with events.deferred() as outbox:
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            user_ban(actor=moderator, user=buyer, reason="scam")
        assert outbox == []  # not committed yet
        for callback in callbacks:
            callback()

    assert (
        f"chat.sockets.{buyer.pk}",
        {"type": "chat.account_disabled"},
    ) in outbox


def test_ban_through_user_moderate_closes_the_sockets_too(
    moderator, buyer, django_capture_on_commit_callbacks
):
    from accounts.services import user_moderate

    with (
        events.deferred() as outbox,
        django_capture_on_commit_callbacks(execute=True),
    ):
        user_moderate(actor=moderator, user=buyer, is_active=False, reason="spam")

    assert (
        f"chat.sockets.{buyer.pk}",
        {"type": "chat.account_disabled"},
    ) in outbox


def test_banned_sender_is_refused_whatever_the_caller_loaded(buyer, conversation):
    # A socket keeps the user it loaded on connect: the service reads the row.
    User.objects.filter(pk=buyer.pk).update(is_active=False)

    with pytest.raises(PermissionDenied) as refused:
        services.message_send(
            user=buyer, conversation=conversation, text="still here", client_id="z"
        )

    assert refused.value.code == services.ACCOUNT_DISABLED_CODE
    assert Message.objects.filter(conversation=conversation).count() == 1


def test_send_moves_both_sides_counters(buyer, seller, conversation):
    Participant.objects.filter(conversation=conversation).update(
        is_archived=True, unread_count=2, email_pending=False
    )

    message, _ = services.message_send(
        user=buyer, conversation=conversation, text="More"
    )

    mine, theirs = _state(conversation, buyer), _state(conversation, seller)
    assert (mine.unread_count, mine.last_read_message_id) == (2, message.pk)
    assert (theirs.unread_count, theirs.last_read_message_id) == (3, 0)
    assert (mine.is_archived, theirs.is_archived) == (False, False)
    # The seller has no socket open: only they are flagged for an e-mail.
    assert (mine.email_pending, theirs.email_pending) == (False, True)
    conversation.refresh_from_db()
    assert conversation.last_message_id == message.pk
    assert conversation.last_message_at == message.created_at


def test_sends_are_rate_limited(buyer, conversation, settings):
    settings.CHAT_RATE_LIMIT_MESSAGES = 3
    settings.CHAT_RATE_LIMIT_SECONDS = 60
    # The fixture's first message counted as one.
    services.message_send(user=buyer, conversation=conversation, text="2")
    services.message_send(user=buyer, conversation=conversation, text="3")

    with pytest.raises(RateLimited):
        services.message_send(user=buyer, conversation=conversation, text="4")

    assert Message.objects.filter(sender=buyer).count() == 3


@pytest.mark.services
def test_rate_limit_counter_on_redis_expires_with_its_window():
    from django.core.cache import caches

    from core.ratelimit import rate_limit_hit

    for _ in range(2):
        rate_limit_hit(key="t", limit=2, window_seconds=3600)
    with pytest.raises(RateLimited):
        rate_limit_hit(key="t", limit=2, window_seconds=3600)

    backend = caches["default"]
    window = int(time.time() // 3600)
    key = backend.make_and_validate_key(f"rl:t:{window}")
    assert backend.get(f"rl:t:{window}") == 3
    assert 0 < backend._cache.get_client(key).ttl(key) <= 3601


def test_retry_with_known_client_id_is_not_rate_limited(buyer, conversation, settings):
    settings.CHAT_RATE_LIMIT_MESSAGES = 2
    services.message_send(
        user=buyer, conversation=conversation, text="2", client_id="r"
    )

    _message, created = services.message_send(
        user=buyer, conversation=conversation, text="2", client_id="r"
    )

    assert created is False


@pytest.mark.parametrize(
    ("text", "warning"),
    [
        ("Call me +7 701 123 45 67", "phone"),
        ("my number 8(701)1234567 thanks", "phone"),
        ("Pay here https://paypal.me/someone", "payment_link"),
        ("kaspi.kz/pay/12345 please", "payment_link"),
        ("https://example.org/checkout?id=1", "payment_link"),
        ("Price is 150000 tenge", ""),
        ("See https://example.org/photos", ""),
        ("Our site http://127.0.0.1:8000/pay/ is fine", ""),
    ],
)
def test_warning_for_phone_numbers_and_payment_links(
    buyer, conversation, text, warning
):
    message, _ = services.message_send(user=buyer, conversation=conversation, text=text)

    assert message.warning == warning


def test_mark_read_resets_unread_and_sets_read_time(buyer, seller, conversation):
    services.message_send(user=buyer, conversation=conversation, text="two")

    marked = services.conversation_mark_read(user=seller, conversation=conversation)

    assert marked == 2
    assert selectors.unread_total(user=seller) == 0
    state = _state(conversation, seller)
    assert state.last_read_message_id == conversation.last_message_id
    assert not Message.objects.filter(read_at__isnull=True, sender=buyer).exists()


def test_mark_read_up_to_a_message(buyer, seller, conversation):
    first_id = conversation.last_message_id
    services.message_send(user=buyer, conversation=conversation, text="two")

    marked = services.conversation_mark_read(
        user=seller, conversation=conversation, up_to=first_id
    )

    assert marked == 1
    assert _state(conversation, seller).unread_count == 1
    assert _state(conversation, seller).last_read_message_id == first_id


def test_own_messages_are_not_marked_read_by_me(buyer, conversation):
    marked = services.conversation_mark_read(user=buyer, conversation=conversation)

    assert marked == 0
    assert Message.objects.get().read_at is None


def test_unread_total_counts_all_conversations(buyer, seller, conversation):
    other_buyer_listing = ListingFactory(owner=seller)
    services.conversation_start(
        user=buyer, listing_id=other_buyer_listing.pk, text="Another"
    )

    assert selectors.unread_total(user=seller) == 2
    assert selectors.unread_total(user=buyer) == 0


def test_archive_hides_until_a_new_message(buyer, seller, conversation):
    services.conversation_archive(user=seller, conversation=conversation)

    assert list(selectors.conversation_inbox(user=seller)) == []
    assert list(selectors.conversation_inbox(user=seller, archived=True)) == [
        conversation
    ]
    assert list(selectors.conversation_inbox(user=buyer)) == [conversation]

    services.message_send(user=buyer, conversation=conversation, text="Ping")

    assert list(selectors.conversation_inbox(user=seller)) == [conversation]


def test_inbox_orders_by_last_message(buyer, seller, conversation):
    newer, _ = services.conversation_start(
        user=buyer, listing_id=ListingFactory(owner=seller).pk, text="Newer"
    )
    assert list(selectors.conversation_inbox(user=seller)) == [newer, conversation]

    services.message_send(user=buyer, conversation=conversation, text="Bump")

    assert list(selectors.conversation_inbox(user=seller)) == [conversation, newer]


def test_report_creates_open_report_once(buyer, conversation):
    report = services.conversation_report(
        user=buyer, conversation=conversation, reason="scam", details="Wants prepay"
    )

    assert report.status == "open"
    assert AuditLogEntry.objects.filter(action="chat.conversation_report").count() == 1
    with pytest.raises(Conflict):
        services.conversation_report(
            user=buyer, conversation=conversation, reason="scam"
        )
    assert Report.objects.count() == 1


def test_report_needs_a_valid_reason_and_a_participant(buyer, outsider, conversation):
    with pytest.raises(DomainValidationError):
        services.conversation_report(user=buyer, conversation=conversation, reason="x")
    with pytest.raises(NotFound):
        services.conversation_report(
            user=outsider, conversation=conversation, reason="spam"
        )

    assert Report.objects.count() == 0


def test_resolve_report(moderator, buyer, conversation):
    report = services.conversation_report(
        user=buyer, conversation=conversation, reason="spam"
    )

    services.report_resolve(moderator=moderator, report=report, resolution="Warned")

    report.refresh_from_db()
    assert report.status == "resolved"
    assert report.resolved_by == moderator
    with pytest.raises(Conflict):
        services.report_resolve(moderator=moderator, report=report)


# --- images -----------------------------------------------------------------------


def test_image_attachment_is_cleaned(buyer, conversation, png_upload):
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"  # Make
    upload = png_upload("p.jpg", size=(3000, 1500), fmt="JPEG", exif=exif.tobytes())

    message, _ = services.message_send(
        user=buyer, conversation=conversation, text="", image=upload
    )

    assert message.image_width == 1600
    assert message.image_height == 800
    with Image.open(message.image.path) as stored:
        assert stored.format == "JPEG"
        assert stored.size == (1600, 800)
        assert dict(stored.getexif()) == {}


def test_non_image_upload_is_refused(buyer, conversation):
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("x.png", b"<html>not an image</html>")

    with pytest.raises(DomainValidationError) as exc:
        services.message_send(user=buyer, conversation=conversation, image=upload)

    assert exc.value.field == "image"
    assert Message.objects.count() == 1


def test_gif_is_refused(buyer, conversation, png_upload):
    upload = png_upload("x.gif", fmt="GIF")

    with pytest.raises(DomainValidationError):
        services.message_send(user=buyer, conversation=conversation, image=upload)


def test_decompression_bomb_is_refused(buyer, conversation, png_upload):
    upload = png_upload("bomb.png", size=(10000, 10000))

    with pytest.raises(DomainValidationError):
        services.message_send(user=buyer, conversation=conversation, image=upload)

    assert Message.objects.count() == 1


# --- presence and e-mail batching ---


def test_presence_tracks_open_sockets(buyer):
    presence_touch(user_id=buyer.pk, channel_name="a")
    presence_touch(user_id=buyer.pk, channel_name="b")
    presence_remove(user_id=buyer.pk, channel_name="a")

    assert presence_is_online(user_id=buyer.pk) is True
    presence_remove(user_id=buyer.pk, channel_name="b")
    assert presence_is_online(user_id=buyer.pk) is False


def test_offline_recipient_gets_one_notification_per_interval(
    buyer, seller, listing, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        conversation, _ = services.conversation_start(
            user=buyer, listing_id=listing.pk, text="One"
        )
    assert Notification.objects.filter(user=seller, kind="message").count() == 1

    with django_capture_on_commit_callbacks(execute=True):
        services.message_send(user=buyer, conversation=conversation, text="Two")
        services.message_send(user=buyer, conversation=conversation, text="Three")

    assert Notification.objects.filter(user=seller, kind="message").count() == 1
    assert _state(conversation, seller).email_pending is True
    note = Notification.objects.get(user=seller)
    assert note.url == f"/messages/{conversation.pk}/"
    assert note.title == "1 new message from Bea Buyer about “Red bicycle”"
    assert note.body == "One"
    assert Notification.objects.filter(user=buyer).count() == 0


def test_digest_sends_pending_after_interval(
    buyer, seller, listing, django_capture_on_commit_callbacks, settings
):
    with django_capture_on_commit_callbacks(execute=True):
        conversation, _ = services.conversation_start(
            user=buyer, listing_id=listing.pk, text="One"
        )
    with django_capture_on_commit_callbacks(execute=True):
        services.message_send(user=buyer, conversation=conversation, text="Two")
    Participant.objects.filter(user=seller).update(
        last_emailed_at=timezone.now()
        - timedelta(seconds=settings.CHAT_EMAIL_INTERVAL_SECONDS + 1)
    )

    call_command("chat_send_email_digests")

    notes = Notification.objects.filter(user=seller, kind="message")
    assert notes.count() == 2
    assert notes.first().title.startswith("2 new messages")
    assert notes.first().body == "One\nTwo"
    assert _state(conversation, seller).email_pending is False
    # Idempotent: nothing pending, nothing sent.
    assert services.message_email_digests_send() == 0


def test_online_recipient_gets_no_notification(
    buyer, seller, listing, django_capture_on_commit_callbacks
):
    presence_touch(user_id=seller.pk, channel_name="page-1")

    with django_capture_on_commit_callbacks(execute=True):
        convo, _ = services.conversation_start(
            user=buyer, listing_id=listing.pk, text="Hi"
        )

    assert Notification.objects.filter(user=seller).count() == 0
    assert _state(convo, seller).email_pending is False


def test_reading_cancels_pending_email(
    buyer, seller, conversation, django_capture_on_commit_callbacks
):
    assert _state(conversation, seller).email_pending is True

    services.conversation_mark_read(user=seller, conversation=conversation)

    assert _state(conversation, seller).email_pending is False
    assert services.message_email_digests_send() == 0
    assert Notification.objects.filter(user=seller).count() == 0
