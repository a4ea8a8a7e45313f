"""`message_send_async`: the socket's send path on the event loop (PostgreSQL
connections of the loop, the rate limit and presence in one Redis round
trip). The same rules as `message_send`; what differs is where it runs."""

import pytest
from channels.db import database_sync_to_async
from django.db import connection

from chat import asyncdb, events, selectors, services
from chat.models import Message, Participant
from chat.presence import (
    presence_is_online,
    presence_key,
    presence_remove_async,
    presence_touch,
    presence_touch_async,
)
from core.cache import redis_close
from core.errors import PermissionDenied, RateLimited

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
async def _close_loop_connections():
    yield
    asyncdb.close()
    redis_close()


@pytest.fixture
def sent(monkeypatch):
    """The group sends of the send path, with whether the message was
    committed when each was sent (read on another connection)."""
    calls = []

    async def record(outbox):
        for group, event in outbox:
            stored = None
            if event["type"] == "chat.message":
                stored = await database_sync_to_async(
                    Message.objects.filter(pk=event["message"]["id"]).exists
                )()
            calls.append((group, event["type"], stored))

    monkeypatch.setattr(events, "group_send_many", record)
    return calls


def _state(conversation, user):
    return Participant.objects.get(conversation=conversation, user=user)


async def test_message_is_stored_then_announced(buyer, seller, conversation, sent):
    await database_sync_to_async(presence_touch)(user_id=seller.pk, channel_name="a")

    message, created = await services.message_send_async(
        user=buyer,
        conversation=conversation,
        text=" See you <b>at 6</b> ",
        client_id="c1",
    )

    assert created is True
    stored = await database_sync_to_async(Message.objects.get)(pk=message.pk)
    assert (stored.text, stored.client_id, stored.sender_id) == (
        "See you <b>at 6</b>",
        "c1",
        buyer.pk,
    )
    assert sent == [
        (events.conversation_group(conversation.pk), "chat.message", True),
        (events.user_group(seller.pk), "chat.unread", None),
    ]
    seller_state = await database_sync_to_async(_state)(conversation, seller)
    buyer_state = await database_sync_to_async(_state)(conversation, buyer)
    # The conversation's first message was unread already; the seller has a
    # socket open, so no e-mail is flagged.
    assert (seller_state.unread_count, seller_state.email_pending) == (2, False)
    assert buyer_state.last_read_message_id == message.pk
    assert conversation.last_message_id == message.pk


async def test_offline_recipient_is_flagged_and_the_email_queued(
    buyer, seller, conversation, sent, monkeypatch, settings
):
    from chat import tasks

    queued = []
    monkeypatch.setattr(
        tasks.message_email_notify,
        "apply_async",
        lambda args, countdown: queued.append((args, countdown)),
    )
    await database_sync_to_async(Participant.objects.filter(user=seller).update)(
        email_pending=False
    )

    await services.message_send_async(
        user=buyer, conversation=conversation, text="Still there?"
    )

    state = await database_sync_to_async(_state)(conversation, seller)
    assert state.email_pending is True
    assert queued == [([state.pk], settings.CHAT_EMAIL_DELAY_SECONDS)]


async def test_online_recipient_gets_no_email(
    buyer, seller, conversation, sent, monkeypatch
):
    from chat import tasks

    queued = []
    monkeypatch.setattr(
        tasks.message_email_notify, "apply_async", lambda **kw: queued.append(kw)
    )
    await database_sync_to_async(Participant.objects.filter(user=seller).update)(
        email_pending=False
    )
    await database_sync_to_async(presence_touch)(user_id=seller.pk, channel_name="a")

    await services.message_send_async(user=buyer, conversation=conversation, text="Hi")

    assert (
        await database_sync_to_async(_state)(conversation, seller)
    ).email_pending is False
    assert queued == []


async def test_retry_returns_the_stored_message_uncounted(
    buyer, conversation, sent, settings
):
    settings.CHAT_RATE_LIMIT_MESSAGES = 2  # the conversation fixture sent one
    first, _ = await services.message_send_async(
        user=buyer, conversation=conversation, text="Once", client_id="same"
    )

    again, created = await services.message_send_async(
        user=buyer, conversation=conversation, text="Once", client_id="same"
    )

    assert (again.pk, created) == (first.pk, False)
    assert len([s for s in sent if s[1] == "chat.message"]) == 1
    with pytest.raises(RateLimited):
        await services.message_send_async(
            user=buyer, conversation=conversation, text="Twice"
        )
    assert (
        await database_sync_to_async(Message.objects.filter(sender=buyer).count)() == 2
    )


async def test_client_id_race_returns_the_stored_message(
    buyer, conversation, sent, monkeypatch
):
    first, _ = await services.message_send_async(
        user=buyer, conversation=conversation, text="A", client_id="race"
    )
    # The check saw no message with the client_id; another connection stored
    # one just before the insert, which the unique constraint refuses.
    monkeypatch.setattr(
        selectors, "message_send_checks_result", lambda row: (True, None, None)
    )

    again, created = await services.message_send_async(
        user=buyer, conversation=conversation, text="A", client_id="race"
    )

    assert (again.pk, created) == (first.pk, False)
    assert (
        await database_sync_to_async(Message.objects.filter(client_id="race").count)()
        == 1
    )


async def test_blocked_and_banned_senders_are_refused(
    buyer, seller, conversation, sent
):
    await database_sync_to_async(services.user_block)(
        user=seller, blocked_user_id=buyer.pk
    )
    with pytest.raises(PermissionDenied):
        await services.message_send_async(
            user=buyer, conversation=conversation, text="Hello?"
        )

    await database_sync_to_async(type(buyer).objects.filter(pk=buyer.pk).update)(
        is_active=False
    )
    with pytest.raises(PermissionDenied) as error:
        await services.message_send_async(
            user=buyer, conversation=conversation, text="Hello?"
        )
    assert error.value.code == services.ACCOUNT_DISABLED_CODE
    assert sent == []


async def test_a_restarted_database_does_not_fail_the_next_send(
    buyer, conversation, sent
):
    await services.message_send_async(user=buyer, conversation=conversation, text="1")
    # The loop's connections die (as in a database restart).
    pids = []
    async with asyncdb.connection() as conn:
        pids.append(conn.info.backend_pid)

    def terminate():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", pids)

    await database_sync_to_async(terminate)()

    message, created = await services.message_send_async(
        user=buyer, conversation=conversation, text="2"
    )

    assert created is True
    assert await database_sync_to_async(
        Message.objects.filter(pk=message.pk, text="2").exists
    )()


async def test_presence_from_the_loop_is_what_the_sync_side_reads(buyer, settings):
    from django.core.cache import caches

    await presence_touch_async(user_id=buyer.pk, channel_name="a")
    await presence_touch_async(user_id=buyer.pk, channel_name="b")
    await presence_remove_async(user_id=buyer.pk, channel_name="a")

    assert await database_sync_to_async(presence_is_online)(user_id=buyer.pk) is True
    backend = caches["default"]
    key = backend.redis_key(presence_key(buyer.pk))
    [ttl] = await backend.execute_async([("TTL", key)])
    assert 0 < ttl <= settings.CHAT_PRESENCE_TTL_SECONDS
    assert set(await database_sync_to_async(backend.get)(presence_key(buyer.pk))) == {
        "b"
    }

    await presence_remove_async(user_id=buyer.pk, channel_name="b")

    assert await database_sync_to_async(presence_is_online)(user_id=buyer.pk) is False
    assert await backend.execute_async([("EXISTS", key)]) == [0]
