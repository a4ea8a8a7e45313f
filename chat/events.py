"""What goes over the channel layer: group names and event payloads.

Services call `group_send_on_commit` so a rolled-back write never announces
itself; consumers turn the events into the JSON frames documented in
docs/chat.md.
"""

import contextlib
import contextvars
import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction
from django.urls import reverse

from core.cache import redis_execute

logger = logging.getLogger(__name__)


def conversation_group(conversation_id: int) -> str:
    return f"chat.conversation.{conversation_id}"


def user_group(user_id: int) -> str:
    """The user's /ws/user/ sockets: the unread badge."""
    return f"chat.user.{user_id}"


def user_sockets_group(user_id: int) -> str:
    """Every open socket of the user, both endpoints: blocks and bans."""
    return f"chat.sockets.{user_id}"


def message_image_url(message) -> str | None:
    if not message.image:
        return None
    return reverse(
        "api_conversation_message_image",
        kwargs={"pk": message.conversation_id, "message_pk": message.pk},
    )


def message_payload(message) -> dict:
    """A message as sockets and the API show it."""
    return {
        "id": message.pk,
        "conversation": message.conversation_id,
        "sender": {"id": message.sender_id, "name": message.sender.public_name},
        "text": message.text,
        "image": message_image_url(message),
        "image_width": message.image_width or None,
        "image_height": message.image_height or None,
        "client_id": message.client_id or None,
        "warning": message.warning or None,
        "created_at": message.created_at.isoformat(),
        "read_at": message.read_at.isoformat() if message.read_at else None,
    }


# Set by `deferred()`: a list that collects group sends instead of sending them.
_outbox: contextvars.ContextVar[list | None] = contextvars.ContextVar(
    "chat_event_outbox", default=None
)


@contextlib.contextmanager
def deferred():
    """Collect the block's committed group sends for `group_send_many`.

    For the consumers: they run a service in a worker thread and then send what
    it committed from the event loop, instead of each send hopping back to the
    loop while the worker thread (and its database connection) waits.
    """
    outbox = []
    token = _outbox.set(outbox)
    try:
        yield outbox
    finally:
        _outbox.reset(token)


async def group_send_many(outbox: list) -> None:
    """Send what `deferred()` collected, in order; best effort like `group_send`."""
    if not outbox:
        return
    layer = get_channel_layer()
    if layer is None:
        return
    if _is_pubsub_layer(layer):
        try:
            await _publish_many(layer, outbox)
        except Exception:  # the write is committed; clients catch up with sync
            logger.exception("chat: group_send to %s failed", [g for g, _ in outbox])
        return
    for group, event in outbox:
        try:
            await layer.group_send(group, event)
        except Exception:  # the write is committed; clients catch up with sync
            logger.exception("chat: group_send to %s failed", group)


def _is_pubsub_layer(layer) -> bool:
    try:
        from channels_redis.pubsub import RedisPubSubChannelLayer
    except ImportError:
        return False
    return isinstance(layer, RedisPubSubChannelLayer)


async def _publish_many(layer, outbox: list) -> None:
    """channels-redis's pub/sub layer, in one Redis round trip per shard.

    Its `group_send` is one PUBLISH per call, each waiting for its reply under
    a lock that every publish of the process shares; a new message makes two
    (the conversation, the recipient's unread badge). This does what
    `group_send` does (channels-redis 4.3: the group's channel name, the
    layer's serializer, the group's shard) with the PUBLISHes of a shard sent
    together (`core.cache.redis_execute`).
    """
    loop_layer = layer._get_layer()
    batches = {}
    for group, event in outbox:
        channel = loop_layer._get_group_channel_name(group)
        shard = loop_layer._get_shard(channel)
        batches.setdefault(id(shard), (shard, []))[1].append(
            ("PUBLISH", channel, layer.serialize(event))
        )
    for shard, commands in batches.values():
        url = shard.host.get("address") if len(shard.host) == 1 else None
        if url is None:  # a host given as options: the layer's own client
            for _publish, channel, data in commands:
                await shard.publish(channel, data)
        else:
            await redis_execute(url, commands)


def group_send(group: str, event: dict) -> None:
    """Send now. Delivery is best effort: the database already has the truth."""
    outbox = _outbox.get()
    if outbox is not None:
        outbox.append((group, event))
        return
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(group, event)
    except Exception:  # a broken layer must not fail the request that wrote
        logger.exception("chat: group_send to %s failed", group)


def group_send_on_commit(group: str, event: dict) -> None:
    transaction.on_commit(lambda: group_send(group, event))
