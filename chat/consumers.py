"""Websocket adapters: parse a frame, call a service or selector, send JSON.

Frame formats and close codes are documented in docs/chat.md. Every ORM call
goes through `database_sync_to_async`; membership is checked by
`access_conversation`, the same selector the pages and the API use.
"""

import asyncio
import contextlib
import logging
import time

from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings

from chat import asyncdb, events, selectors, services
from chat.presence import presence_remove_async, presence_touch_async
from core.errors import DomainError

logger = logging.getLogger(__name__)

CLOSE_UNAUTHENTICATED = 4401
CLOSE_ACCOUNT_DISABLED = 4403
CLOSE_NOT_FOUND = 4404
TYPING_MIN_INTERVAL = 1.0  # seconds between typing events from one socket
SYNC_LIMIT = 100


def _db(func):
    # On PostgreSQL writes from many sockets run in parallel threads, each with
    # its own connection; SQLite gets one thread, as it has one writer anyway.
    return database_sync_to_async(
        func, thread_sensitive=not settings.DATABASE_IS_POSTGRES
    )


async def _db_then_broadcast(func, *args, **kwargs):
    """Run a service in a worker thread, then send what it committed from here.

    The group sends the service makes on commit are collected in the thread
    (`events.deferred`) and sent once it returns: the message is stored before
    anyone hears of it, and the thread does not wait on the event loop.
    """

    def call():
        with events.deferred() as outbox:
            try:
                return func(*args, **kwargs), outbox, None
            except Exception as exc:  # what committed before it is still sent
                return None, outbox, exc

    result, outbox, error = await _db(call)()
    await events.group_send_many(outbox)
    if error is not None:
        raise error
    return result


def _optional_int(value, name):
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise DomainError(f"{name} must be a number.")
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise DomainError(f"{name} must be a number.") from None
    if number < 0:
        raise DomainError(f"{name} must not be negative.")
    return number


class ChatSocket(AsyncJsonWebsocketConsumer):
    """What both endpoints share: groups, presence, closing, dispatch."""

    user = None
    joined = ()
    closing = False

    async def dispatch(self, message):
        # Channels closes stale database connections before every handler,
        # through a hop to its sync thread: for each frame a client sends and
        # each event a group delivers. Here every ORM call already goes
        # through database_sync_to_async, which does that in its own thread,
        # so the extra hop is skipped.
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def join(self, *groups):
        self.joined = groups
        for group in groups:
            await self.channel_layer.group_add(group, self.channel_name)

    async def disconnect(self, code):
        for group in self.joined:
            await self.channel_layer.group_discard(group, self.channel_name)
        if self.joined:
            await self.presence_stop()

    async def close(self, code=None, reason=None):
        self.closing = True
        await super().close(code=code, reason=reason)

    async def send_json(self, content, close=False):
        # Group events can still arrive between close() and the disconnect.
        if not self.closing:
            await super().send_json(content, close=close)

    async def chat_account_disabled(self, event):
        """The account was banned: nothing more for this socket."""
        await self.close(code=CLOSE_ACCOUNT_DISABLED)

    # Presence: the socket's channel name in the cache while it is open.

    async def presence_start(self):
        await presence_touch_async(user_id=self.user.pk, channel_name=self.channel_name)
        self._presence_task = asyncio.create_task(self._presence_loop())

    async def _presence_loop(self):
        interval = max(1, settings.CHAT_PRESENCE_TTL_SECONDS // 3)
        while True:
            await asyncio.sleep(interval)
            await presence_touch_async(
                user_id=self.user.pk, channel_name=self.channel_name
            )

    async def presence_stop(self):
        task = getattr(self, "_presence_task", None)
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            await presence_remove_async(
                user_id=self.user.pk, channel_name=self.channel_name
            )


class ConversationConsumer(ChatSocket):
    """/ws/chat/<conversation_id>/: messages, typing and read receipts."""

    async def connect(self):
        self.user = self.scope.get("user")
        self.conversation = None
        self._last_typing = 0.0
        if self.user is None or not self.user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        try:
            self.conversation, other_read, self.blocked_by = await _db(self._load)(
                self.scope["url_route"]["kwargs"]["pk"]
            )
        except DomainError:
            await self.close(code=CLOSE_NOT_FOUND)
            return
        self.other_id = self.conversation.other_party_id(self.user.pk)
        self.group = events.conversation_group(self.conversation.pk)
        await self.join(self.group, events.user_sockets_group(self.user.pk))
        await self.accept()
        await self.presence_start()
        await self.send_json(
            {
                "type": "hello",
                "conversation": self.conversation.pk,
                "user_id": self.user.pk,
                "last_message_id": self.conversation.last_message_id,
                "other_last_read_id": other_read,
                "blocked_by": self.blocked_by,
            }
        )

    def _load(self, pk):
        """The conversation (membership checked), the other side's read mark
        and who blocked whom."""
        conversation = selectors.access_conversation(self.user, pk)
        other_id = conversation.other_party_id(self.user.pk)
        other = selectors.participant_get(conversation=conversation, user=other_id)
        block = selectors.block_between(user_a_id=self.user.pk, user_b_id=other_id)
        return (
            conversation,
            other.last_read_message_id,
            block.blocker_id if block else None,
        )

    async def receive_json(self, content, **kwargs):
        if not isinstance(content, dict) or not isinstance(content.get("type"), str):
            await self._error("invalid", "Each frame is a JSON object with a type.")
            return
        handler = {
            "message.send": self._on_send,
            "typing": self._on_typing,
            "read": self._on_read,
            "sync": self._on_sync,
            "history": self._on_history,
            "ping": self._on_ping,
        }.get(content["type"])
        if handler is None:
            await self._error("invalid", f"Unknown frame type: {content['type']}.")
            return
        try:
            await handler(content)
        except DomainError as exc:
            await self._error(exc.code, exc.message, client_id=content.get("client_id"))
            if exc.code == services.ACCOUNT_DISABLED_CODE:
                # Banned, and the ban's own close event did not reach us.
                await self.close(code=CLOSE_ACCOUNT_DISABLED)

    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        if text_data is None:
            await self._error("invalid", "Send JSON text frames.")
            return
        try:
            content = await self.decode_json(text_data)
        except ValueError:
            await self._error("invalid", "The frame is not valid JSON.")
            return
        await self.receive_json(content)

    async def _error(self, code, detail, client_id=None):
        frame = {"type": "error", "code": code, "detail": detail}
        if client_id:
            frame["client_id"] = str(client_id)[:64]
        await self.send_json(frame)

    async def _on_send(self, content):
        text = content.get("text", "")
        client_id = content.get("client_id", "")
        if not isinstance(text, str):
            raise DomainError("text must be a string.")
        if not isinstance(client_id, str):
            raise DomainError("client_id must be a string.")
        if asyncdb.available():  # PostgreSQL: no hop to a worker thread
            message, created = await services.message_send_async(
                user=self.user,
                conversation=self.conversation,
                text=text,
                client_id=client_id,
            )
        else:
            message, created = await _db_then_broadcast(
                services.message_send,
                user=self.user,
                conversation=self.conversation,
                text=text,
                client_id=client_id,
            )
        await self.send_json(
            {
                "type": "message.ack",
                "client_id": client_id or None,
                "duplicate": not created,
                "message": events.message_payload(message),
            }
        )

    async def _on_typing(self, content):
        if self.blocked_by is not None:
            return  # a block stops typing too
        now = time.monotonic()
        if now - self._last_typing < TYPING_MIN_INTERVAL:
            return
        self._last_typing = now
        await self.channel_layer.group_send(
            self.group,
            {
                "type": "chat.typing",
                "user_id": self.user.pk,
                "name": self.user.public_name,
            },
        )

    async def _on_read(self, content):
        up_to = _optional_int(content.get("message_id"), "message_id")
        await _db_then_broadcast(
            services.conversation_mark_read,
            user=self.user,
            conversation=self.conversation,
            up_to=up_to,
        )

    async def _on_sync(self, content):
        after = _optional_int(content.get("after"), "after") or 0
        rows, has_more = await _db(selectors.message_list)(
            conversation=self.conversation, after=after, limit=SYNC_LIMIT
        )
        await self.send_json(
            {
                "type": "sync",
                "after": after,
                "messages": [events.message_payload(m) for m in rows],
                "has_more": has_more,
            }
        )

    async def _on_history(self, content):
        before = _optional_int(content.get("before"), "before")
        rows, has_more = await _db(selectors.message_list)(
            conversation=self.conversation, before=before, limit=SYNC_LIMIT // 2
        )
        await self.send_json(
            {
                "type": "history",
                "before": before,
                "messages": [events.message_payload(m) for m in rows],
                "has_more": has_more,
            }
        )

    async def _on_ping(self, content):
        await self.send_json({"type": "pong"})

    # Channel layer events -> frames.

    async def chat_message(self, event):
        await self.send_json({"type": "message.new", "message": event["message"]})

    async def chat_typing(self, event):
        if event["user_id"] != self.user.pk and self.blocked_by is None:
            await self.send_json(
                {"type": "typing", "user_id": event["user_id"], "name": event["name"]}
            )

    async def chat_read(self, event):
        await self.send_json(
            {
                "type": "read",
                "user_id": event["user_id"],
                "last_read_id": event["last_read_id"],
                "read_at": event["read_at"],
            }
        )

    async def chat_block(self, event):
        """A block between this user and someone: does it concern this thread?"""
        if set(event["user_ids"]) != {self.user.pk, self.other_id}:
            return
        self.blocked_by = event["blocked_by"]
        await self.send_json({"type": "block", "blocked_by": self.blocked_by})


class UserConsumer(ChatSocket):
    """/ws/user/: the user's unread-message total, for every open page."""

    async def connect(self):
        self.user = self.scope.get("user")
        self._unread_task = None
        self._unread_stale = False
        if self.user is None or not self.user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        await self.join(
            events.user_group(self.user.pk), events.user_sockets_group(self.user.pk)
        )
        await self.accept()
        await self.presence_start()
        total = await _db(selectors.unread_total)(user=self.user)
        await self.send_json({"type": "unread", "total": total})

    async def disconnect(self, code):
        if self._unread_task is not None:
            self._unread_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._unread_task
        await super().disconnect(code)

    async def receive_json(self, content, **kwargs):
        if isinstance(content, dict) and content.get("type") == "ping":
            await self.send_json({"type": "pong"})
        else:
            await self.send_json(
                {"type": "error", "code": "invalid", "detail": "Only ping is accepted."}
            )

    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        try:
            content = await self.decode_json(text_data or "")
        except ValueError:
            content = None
        await self.receive_json(content)

    async def chat_unread(self, event):
        # Messages can arrive faster than the total is read: at most one read
        # in flight per socket, and one more after it if the total changed
        # meanwhile, so the last total sent is always a fresh one.
        self._unread_stale = True
        if self._unread_task is None or self._unread_task.done():
            self._unread_task = asyncio.create_task(self._push_unread())

    async def _push_unread(self):
        try:
            while self._unread_stale:
                self._unread_stale = False
                total = await _db(selectors.unread_total)(user=self.user)
                await self.send_json({"type": "unread", "total": total})
        except Exception:  # the badge is a convenience; the next event retries
            logger.exception("chat: unread total for user %s failed", self.user.pk)

    async def chat_block(self, event):
        """Blocks only concern conversation sockets."""
