"""The websocket, through the real ASGI stack: origin check, session or token
auth, then the consumer."""

import asyncio

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.contrib.sessions.backends.db import SessionStore
from django.test import Client

from chat import asyncdb, services
from chat.models import Message, Participant
from chat.presence import presence_is_online
from core.cache import redis_close
from marketplace.asgi import application

pytestmark = pytest.mark.django_db(transaction=True)

ORIGIN = b"http://127.0.0.1:8000"


@pytest.fixture(autouse=True)
async def _fresh_layer():
    layer = get_channel_layer()
    await layer.flush()
    yield
    await layer.flush()
    # The send path's connections belong to this test's event loop, and the
    # test database cannot be dropped while they are open.
    asyncdb.close()
    redis_close()


def _session_cookie(user) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


def _access_token(user) -> str:
    from allauth.headless.tokens.strategies.jwt.internal import create_access_token

    session = SessionStore(session_key=_session_cookie(user))
    session.load()
    return create_access_token(user, session, {})


def _communicator(path, *, user=None, origin=ORIGIN, query=""):
    headers = [(b"host", b"127.0.0.1:8000")]
    if origin:
        headers.append((b"origin", origin))
    if user is not None:
        headers.append((b"cookie", f"sessionid={_session_cookie(user)}".encode()))
    url = path + (f"?{query}" if query else "")
    return WebsocketCommunicator(application, url, headers=headers)


async def _open(path, **kwargs):
    communicator = await database_sync_to_async(_communicator)(path, **kwargs)
    connected, _ = await communicator.connect(timeout=5)
    assert connected
    return communicator


async def _receive_type(communicator, frame_type, timeout=3):
    """The next frame of that type; frames of other types are skipped."""
    while True:
        frame = await communicator.receive_json_from(timeout=timeout)
        if frame["type"] == frame_type:
            return frame


def _path(conversation):
    return f"/ws/chat/{conversation.pk}/"


# --- connect / deny -------------------------------------------------------------


async def test_anonymous_is_refused(conversation):
    communicator = WebsocketCommunicator(
        application, _path(conversation), headers=[(b"origin", ORIGIN)]
    )

    connected, code = await communicator.connect(timeout=5)

    assert connected is False
    assert code == 4401


async def test_outsider_is_refused(conversation, outsider):
    communicator = await database_sync_to_async(_communicator)(
        _path(conversation), user=outsider
    )

    connected, code = await communicator.connect(timeout=5)

    assert connected is False
    assert code == 4404


async def test_missing_conversation_is_refused(buyer):
    communicator = await database_sync_to_async(_communicator)(
        "/ws/chat/999999/", user=buyer
    )

    connected, code = await communicator.connect(timeout=5)

    assert connected is False
    assert code == 4404


async def test_wrong_origin_is_refused(conversation, buyer):
    communicator = await database_sync_to_async(_communicator)(
        _path(conversation), user=buyer, origin=b"https://evil.example.com"
    )

    connected, _ = await communicator.connect(timeout=5)

    assert connected is False


async def test_participant_connects_with_session(conversation, buyer):
    communicator = await _open(_path(conversation), user=buyer)

    hello = await communicator.receive_json_from(timeout=3)

    assert hello == {
        "type": "hello",
        "conversation": conversation.pk,
        "user_id": buyer.pk,
        "last_message_id": conversation.last_message_id,
        "other_last_read_id": 0,
        "blocked_by": None,
    }
    assert await database_sync_to_async(presence_is_online)(user_id=buyer.pk)
    await communicator.disconnect()
    assert not await database_sync_to_async(presence_is_online)(user_id=buyer.pk)


async def test_api_client_connects_with_token(conversation, seller):
    token = await database_sync_to_async(_access_token)(seller)

    communicator = await _open(_path(conversation), query=f"token={token}")
    hello = await communicator.receive_json_from(timeout=3)

    assert hello["user_id"] == seller.pk
    await communicator.disconnect()


async def test_bad_token_is_anonymous(conversation, buyer):
    communicator = await database_sync_to_async(_communicator)(
        _path(conversation), user=buyer, query="token=not-a-jwt"
    )

    connected, code = await communicator.connect(timeout=5)

    assert connected is False
    assert code == 4401


# --- send / receive -------------------------------------------------------------


async def test_message_reaches_the_other_party_and_is_stored(
    conversation, buyer, seller
):
    buyer_ws = await _open(_path(conversation), user=buyer)
    seller_ws = await _open(_path(conversation), user=seller)
    await buyer_ws.receive_json_from()
    await seller_ws.receive_json_from()

    await buyer_ws.send_json_to(
        {"type": "message.send", "text": "Can you ship it?", "client_id": "c1"}
    )

    received = await _receive_type(seller_ws, "message.new")
    ack = await _receive_type(buyer_ws, "message.ack")
    stored = await database_sync_to_async(Message.objects.get)(client_id="c1")
    assert received["message"]["id"] == stored.pk
    assert received["message"]["text"] == "Can you ship it?"
    assert received["message"]["sender"] == {"id": buyer.pk, "name": "Bea Buyer"}
    assert ack["duplicate"] is False
    assert ack["message"]["id"] == stored.pk
    assert ack["client_id"] == "c1"
    unread = await database_sync_to_async(
        lambda: Participant.objects.get(user=seller).unread_count
    )()
    assert unread == 2
    await buyer_ws.disconnect()
    await seller_ws.disconnect()


async def test_message_posted_through_the_api_reaches_sockets(
    conversation, buyer, seller
):
    seller_ws = await _open(_path(conversation), user=seller)
    await seller_ws.receive_json_from()

    def post():
        from rest_framework.test import APIClient

        client = APIClient()
        client.force_authenticate(buyer)
        return client.post(
            f"/api/v1/conversations/{conversation.pk}/messages/",
            {"text": "From the API", "client_id": "api-1"},
            format="json",
        )

    response = await database_sync_to_async(post)()

    assert response.status_code == 201
    frame = await _receive_type(seller_ws, "message.new")
    assert frame["message"]["text"] == "From the API"
    assert frame["message"]["id"] == response.json()["id"]
    await seller_ws.disconnect()


async def test_duplicate_client_id_is_stored_once(conversation, buyer, seller):
    buyer_ws = await _open(_path(conversation), user=buyer)
    seller_ws = await _open(_path(conversation), user=seller)
    await buyer_ws.receive_json_from()
    await seller_ws.receive_json_from()
    frame = {"type": "message.send", "text": "Once only", "client_id": "retry-1"}

    await buyer_ws.send_json_to(frame)
    first = await _receive_type(buyer_ws, "message.ack")
    await buyer_ws.send_json_to(frame)
    second = await _receive_type(buyer_ws, "message.ack")

    assert second["duplicate"] is True
    assert second["message"]["id"] == first["message"]["id"]
    count = await database_sync_to_async(
        Message.objects.filter(client_id="retry-1").count
    )()
    assert count == 1
    await _receive_type(seller_ws, "message.new")
    assert await seller_ws.receive_nothing(timeout=0.3)
    await buyer_ws.disconnect()
    await seller_ws.disconnect()


async def test_invalid_frames_get_errors(conversation, buyer, settings):
    settings.CHAT_MESSAGE_MAX_LENGTH = 5
    ws = await _open(_path(conversation), user=buyer)
    await ws.receive_json_from()

    await ws.send_to(text_data="not json")
    bad_json = await ws.receive_json_from()
    await ws.send_json_to({"type": "nope"})
    unknown = await ws.receive_json_from()
    await ws.send_json_to({"type": "message.send", "text": "toolong", "client_id": "x"})
    too_long = await ws.receive_json_from()
    await ws.send_json_to({"type": "message.send", "text": 5})
    not_text = await ws.receive_json_from()
    await ws.send_json_to({"type": "read", "message_id": "abc"})
    bad_read = await ws.receive_json_from()

    assert bad_json["code"] == "invalid"
    assert unknown == {
        "type": "error",
        "code": "invalid",
        "detail": "Unknown frame type: nope.",
    }
    assert too_long["code"] == "invalid"
    assert too_long["client_id"] == "x"
    assert not_text["code"] == "invalid"
    assert bad_read["detail"] == "message_id must be a number."
    count = await database_sync_to_async(Message.objects.count)()
    assert count == 1
    await ws.disconnect()


async def test_blocked_user_send_is_refused(conversation, buyer, seller):
    await database_sync_to_async(services.user_block)(
        user=seller, blocked_user_id=buyer.pk
    )
    ws = await _open(_path(conversation), user=buyer)
    await ws.receive_json_from()

    await ws.send_json_to({"type": "message.send", "text": "hi", "client_id": "b1"})
    error = await _receive_type(ws, "error")

    assert error["code"] == "permission_denied"
    assert error["client_id"] == "b1"
    count = await database_sync_to_async(Message.objects.count)()
    assert count == 1
    await ws.disconnect()


async def test_rate_limited_send_gets_error(conversation, buyer, settings):
    settings.CHAT_RATE_LIMIT_MESSAGES = 1  # the fixture's message used it
    ws = await _open(_path(conversation), user=buyer)
    await ws.receive_json_from()

    await ws.send_json_to({"type": "message.send", "text": "hi", "client_id": "r1"})
    error = await _receive_type(ws, "error")

    assert error["code"] == "rate_limited"
    await ws.disconnect()


# --- typing and read receipts -----------------------------------------------------


async def test_typing_reaches_only_the_other_party(conversation, buyer, seller):
    buyer_ws = await _open(_path(conversation), user=buyer)
    seller_ws = await _open(_path(conversation), user=seller)
    await buyer_ws.receive_json_from()
    await seller_ws.receive_json_from()

    await buyer_ws.send_json_to({"type": "typing"})

    frame = await seller_ws.receive_json_from(timeout=3)
    assert frame == {"type": "typing", "user_id": buyer.pk, "name": "Bea Buyer"}
    assert await buyer_ws.receive_nothing(timeout=0.3)
    await buyer_ws.disconnect()
    await seller_ws.disconnect()


async def test_read_receipt_reaches_the_sender(conversation, buyer, seller):
    buyer_ws = await _open(_path(conversation), user=buyer)
    seller_ws = await _open(_path(conversation), user=seller)
    await buyer_ws.receive_json_from()
    await seller_ws.receive_json_from()

    await seller_ws.send_json_to(
        {"type": "read", "message_id": conversation.last_message_id}
    )

    receipt = await _receive_type(buyer_ws, "read")
    assert receipt["user_id"] == seller.pk
    assert receipt["last_read_id"] == conversation.last_message_id
    message = await database_sync_to_async(Message.objects.get)(
        pk=conversation.last_message_id
    )
    assert message.read_at is not None
    unread = await database_sync_to_async(
        lambda: Participant.objects.get(user=seller).unread_count
    )()
    assert unread == 0
    await buyer_ws.disconnect()
    await seller_ws.disconnect()


async def test_read_receipt_covers_messages_sent_after_connect(
    conversation, buyer, seller
):
    buyer_ws = await _open(_path(conversation), user=buyer)
    seller_ws = await _open(_path(conversation), user=seller)
    await buyer_ws.receive_json_from()
    await seller_ws.receive_json_from()
    await buyer_ws.send_json_to(
        {"type": "message.send", "text": "2", "client_id": "n2"}
    )
    latest = (await _receive_type(seller_ws, "message.new"))["message"]["id"]

    await seller_ws.send_json_to({"type": "read", "message_id": latest})

    receipt = await _receive_type(buyer_ws, "read")
    assert receipt["last_read_id"] == latest
    state = await database_sync_to_async(Participant.objects.get)(user=seller)
    assert (state.last_read_message_id, state.unread_count) == (latest, 0)
    await buyer_ws.disconnect()
    await seller_ws.disconnect()


# --- reconnect catch-up ----------------------------------------------------------


async def test_reconnect_fetches_what_was_missed(conversation, buyer, seller):
    seller_ws = await _open(_path(conversation), user=seller)
    hello = await seller_ws.receive_json_from()
    last_seen = hello["last_message_id"]
    await seller_ws.disconnect()

    for n in range(3):
        await database_sync_to_async(services.message_send)(
            user=buyer, conversation=conversation, text=f"missed {n}"
        )

    seller_ws = await _open(_path(conversation), user=seller)
    await seller_ws.receive_json_from()
    await seller_ws.send_json_to({"type": "sync", "after": last_seen})
    sync = await _receive_type(seller_ws, "sync")

    assert [m["text"] for m in sync["messages"]] == ["missed 0", "missed 1", "missed 2"]
    assert sync["has_more"] is False
    await seller_ws.send_json_to({"type": "history", "before": last_seen + 1})
    history = await _receive_type(seller_ws, "history")
    assert [m["id"] for m in history["messages"]] == [last_seen]
    await seller_ws.disconnect()


async def test_ping_pong(conversation, buyer):
    ws = await _open(_path(conversation), user=buyer)
    await ws.receive_json_from()

    await ws.send_json_to({"type": "ping"})

    assert await ws.receive_json_from() == {"type": "pong"}
    await ws.disconnect()


# --- per-user socket: the unread badge -------------------------------------------


async def test_user_socket_pushes_unread_total(conversation, buyer, seller):
    seller_user_ws = await _open("/ws/user/", user=seller)
    first = await seller_user_ws.receive_json_from()
    assert first == {"type": "unread", "total": 1}

    await database_sync_to_async(services.message_send)(
        user=buyer, conversation=conversation, text="another"
    )
    pushed = await seller_user_ws.receive_json_from(timeout=3)
    assert pushed == {"type": "unread", "total": 2}

    await database_sync_to_async(services.conversation_mark_read)(
        user=seller, conversation=conversation
    )
    after_read = await seller_user_ws.receive_json_from(timeout=3)
    assert after_read == {"type": "unread", "total": 0}
    await seller_user_ws.disconnect()


async def test_user_socket_refuses_anonymous():
    communicator = WebsocketCommunicator(
        application, "/ws/user/", headers=[(b"origin", ORIGIN)]
    )

    connected, code = await communicator.connect(timeout=5)

    assert connected is False
    assert code == 4401


async def test_socket_keeps_presence_fresh(conversation, buyer, settings):
    settings.CHAT_PRESENCE_TTL_SECONDS = 3  # refreshed every second
    ws = await _open(_path(conversation), user=buyer)
    await ws.receive_json_from()

    await asyncio.sleep(4)

    assert await database_sync_to_async(presence_is_online)(user_id=buyer.pk)
    await ws.disconnect()


# --- blocks and bans reach sockets that are already open ---------------------------


async def _pair(conversation, buyer, seller):
    buyer_ws = await _open(_path(conversation), user=buyer)
    seller_ws = await _open(_path(conversation), user=seller)
    await _receive_type(buyer_ws, "hello")
    await _receive_type(seller_ws, "hello")
    return buyer_ws, seller_ws


async def _message_count():
    return await database_sync_to_async(Message.objects.count)()


async def test_block_after_connect_refuses_sends_and_tells_both_sockets(
    conversation, buyer, seller
):
    buyer_ws, seller_ws = await _pair(conversation, buyer, seller)

    await database_sync_to_async(services.user_block)(
        user=seller, blocked_user_id=buyer.pk
    )

    assert await _receive_type(buyer_ws, "block") == {
        "type": "block",
        "blocked_by": seller.pk,
    }
    assert await _receive_type(seller_ws, "block") == {
        "type": "block",
        "blocked_by": seller.pk,
    }
    await buyer_ws.send_json_to(
        {"type": "message.send", "text": "hi", "client_id": "b"}
    )
    refused = await _receive_type(buyer_ws, "error")
    await seller_ws.send_json_to(
        {"type": "message.send", "text": "x", "client_id": "s"}
    )
    blocker_refused = await _receive_type(seller_ws, "error")
    await buyer_ws.send_json_to({"type": "typing"})

    assert refused == {
        "type": "error",
        "code": "permission_denied",
        "detail": "This user does not accept messages from you.",
        "client_id": "b",
    }
    assert blocker_refused["code"] == "conflict"
    assert blocker_refused["client_id"] == "s"
    assert await _message_count() == 1
    assert await seller_ws.receive_nothing(timeout=0.3)  # no typing, no message
    await buyer_ws.disconnect()
    await seller_ws.disconnect()


async def test_unblock_tells_the_sockets_and_sending_works_again(
    conversation, buyer, seller
):
    await database_sync_to_async(services.user_block)(
        user=seller, blocked_user_id=buyer.pk
    )
    buyer_ws = await _open(_path(conversation), user=buyer)
    seller_ws = await _open(_path(conversation), user=seller)
    assert (await _receive_type(buyer_ws, "hello"))["blocked_by"] == seller.pk
    await _receive_type(seller_ws, "hello")

    await database_sync_to_async(services.user_unblock)(
        user=seller, blocked_user_id=buyer.pk
    )

    assert await _receive_type(buyer_ws, "block") == {
        "type": "block",
        "blocked_by": None,
    }
    await _receive_type(seller_ws, "block")
    await buyer_ws.send_json_to({"type": "typing"})
    assert (await seller_ws.receive_json_from(timeout=3))["type"] == "typing"
    await buyer_ws.send_json_to(
        {"type": "message.send", "text": "ok?", "client_id": "u"}
    )
    assert (await _receive_type(seller_ws, "message.new"))["message"]["text"] == "ok?"
    await buyer_ws.disconnect()
    await seller_ws.disconnect()


async def test_block_of_someone_else_leaves_this_conversation_alone(
    conversation, buyer, seller, outsider
):
    buyer_ws, seller_ws = await _pair(conversation, buyer, seller)

    await database_sync_to_async(services.user_block)(
        user=seller, blocked_user_id=outsider.pk
    )

    assert await seller_ws.receive_nothing(timeout=0.5)
    await buyer_ws.send_json_to(
        {"type": "message.send", "text": "hi", "client_id": "k"}
    )
    assert (await _receive_type(seller_ws, "message.new"))["message"]["text"] == "hi"
    await buyer_ws.disconnect()
    await seller_ws.disconnect()


async def test_ban_closes_every_socket_of_the_banned_user_only(
    conversation, buyer, seller, moderator
):
    from accounts.services import user_ban

    buyer_ws, seller_ws = await _pair(conversation, buyer, seller)
    buyer_badge = await _open("/ws/user/", user=buyer)
    await _receive_type(buyer_badge, "unread")

    await database_sync_to_async(user_ban)(actor=moderator, user=buyer, reason="scam")

    assert await buyer_ws.receive_output(timeout=3) == {
        "type": "websocket.close",
        "code": 4403,
    }
    assert await buyer_badge.receive_output(timeout=3) == {
        "type": "websocket.close",
        "code": 4403,
    }
    await seller_ws.send_json_to({"type": "ping"})
    assert await _receive_type(seller_ws, "pong") == {"type": "pong"}
    # A banned account cannot come back: its sessions ended with the ban.
    again = await database_sync_to_async(_communicator)(_path(conversation))
    assert await again.connect(timeout=5) == (False, 4401)
    await seller_ws.disconnect()


async def test_rolled_back_ban_closes_nothing(conversation, buyer, moderator):
    from django.db import transaction

    from accounts.services import user_ban

    ws = await _open(_path(conversation), user=buyer)
    await _receive_type(ws, "hello")

    def ban_then_fail():
        with transaction.atomic():
            user_ban(actor=moderator, user=buyer, reason="scam")
            raise RuntimeError("later step failed")

    with pytest.raises(RuntimeError):
        await database_sync_to_async(ban_then_fail)()

    assert await ws.receive_nothing(timeout=0.5)
    await ws.send_json_to({"type": "ping"})
    assert await ws.receive_json_from(timeout=3) == {"type": "pong"}
    await ws.disconnect()


async def test_banned_user_whose_close_event_was_lost_cannot_send(
    conversation, buyer, seller
):
    from accounts.models import User

    buyer_ws, seller_ws = await _pair(conversation, buyer, seller)
    # As if the ban's event never reached this process: only the row changed.
    await database_sync_to_async(User.objects.filter(pk=buyer.pk).update)(
        is_active=False
    )

    await buyer_ws.send_json_to(
        {"type": "message.send", "text": "hi", "client_id": "x"}
    )

    assert await buyer_ws.receive_json_from(timeout=3) == {
        "type": "error",
        "code": "account_disabled",
        "detail": "Your account is disabled.",
        "client_id": "x",
    }
    assert await buyer_ws.receive_output(timeout=3) == {
        "type": "websocket.close",
        "code": 4403,
    }
    assert await _message_count() == 1
    assert await seller_ws.receive_nothing(timeout=0.3)
    await seller_ws.disconnect()


async def test_archived_conversation_keeps_receiving(conversation, buyer, seller):
    buyer_ws, seller_ws = await _pair(conversation, buyer, seller)
    await database_sync_to_async(services.conversation_archive)(
        user=seller, conversation=conversation, archived=True
    )

    await buyer_ws.send_json_to(
        {"type": "message.send", "text": "still?", "client_id": "a"}
    )

    frame = await _receive_type(seller_ws, "message.new")
    assert frame["message"]["text"] == "still?"
    await buyer_ws.disconnect()
    await seller_ws.disconnect()


async def test_user_socket_ends_on_the_latest_total_after_a_burst(
    conversation, buyer, seller
):
    badge = await _open("/ws/user/", user=seller)
    assert await badge.receive_json_from() == {"type": "unread", "total": 1}

    def burst():
        for n in range(5):
            services.message_send(user=buyer, conversation=conversation, text=str(n))

    await database_sync_to_async(burst)()

    totals = []
    while not totals or totals[-1] != 6:
        totals.append((await _receive_type(badge, "unread", timeout=5))["total"])
    while not await badge.receive_nothing(timeout=0.5):
        totals.append((await badge.receive_json_from())["total"])
    assert totals == sorted(totals)  # never goes back
    assert totals[-1] == 6
    await badge.disconnect()


async def test_user_socket_reads_the_total_once_for_events_that_queue_up(
    conversation, seller
):
    badge = await _open("/ws/user/", user=seller)
    assert await badge.receive_json_from() == {"type": "unread", "total": 1}
    layer = get_channel_layer()

    await asyncio.gather(
        *(
            layer.group_send(f"chat.user.{seller.pk}", {"type": "chat.unread"})
            for _ in range(5)
        )
    )

    frames = []
    while not await badge.receive_nothing(timeout=0.5):
        frames.append(await badge.receive_json_from())
    assert frames[-1] == {"type": "unread", "total": 1}
    assert all(frame == frames[-1] for frame in frames)
    # A read for the first event and one for those that came during it, not one
    # per event.
    assert len(frames) < 5
    await badge.disconnect()
