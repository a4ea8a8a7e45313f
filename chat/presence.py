"""Who has a socket open, kept in the cache (locmem or Redis) with a TTL.

Each socket registers its channel name under its user's key and refreshes it
while it stays connected; a socket of a process that died simply expires. A user
with no live entry is "offline" and gets e-mails about new messages.
"""

import time

from django.conf import settings
from django.core.cache import cache, caches

from core.cache import RedisCache


def presence_key(user_id: int) -> str:
    """The cache key of the user's open sockets."""
    return f"chat:presence:{user_id}"


def _live(entries: dict, now: float) -> dict:
    return {name: exp for name, exp in (entries or {}).items() if exp > now}


def presence_touch(*, user_id: int, channel_name: str) -> None:
    """Register (or refresh) one open socket of the user."""
    key = presence_key(user_id)
    entries, ttl = _touched(cache.get(key), channel_name)
    cache.set(key, entries, timeout=ttl)


def presence_remove(*, user_id: int, channel_name: str) -> None:
    """Forget one socket of the user (on disconnect)."""
    key = presence_key(user_id)
    entries, ttl = _removed(cache.get(key), channel_name)
    if entries:
        cache.set(key, entries, timeout=ttl)
    else:
        cache.delete(key)


async def presence_touch_async(*, user_id: int, channel_name: str) -> None:
    """`presence_touch` from the event loop: on Redis without a hop to a
    worker thread (a server with 1,000 sockets refreshes ~30 a second)."""
    backend = caches["default"]
    if not isinstance(backend, RedisCache):  # locmem: in process, no I/O
        presence_touch(user_id=user_id, channel_name=channel_name)
        return
    key = backend.redis_key(presence_key(user_id))
    [raw] = await backend.execute_async([("GET", key)])
    entries, ttl = _touched(backend.decode(raw), channel_name)
    await backend.execute_async([("SET", key, backend.encode(entries), "EX", ttl)])


async def presence_remove_async(*, user_id: int, channel_name: str) -> None:
    """`presence_remove` from the event loop."""
    backend = caches["default"]
    if not isinstance(backend, RedisCache):
        presence_remove(user_id=user_id, channel_name=channel_name)
        return
    key = backend.redis_key(presence_key(user_id))
    [raw] = await backend.execute_async([("GET", key)])
    entries, ttl = _removed(backend.decode(raw), channel_name)
    if entries:
        command = ("SET", key, backend.encode(entries), "EX", ttl)
    else:
        command = ("DEL", key)
    await backend.execute_async([command])


def _touched(entries, channel_name) -> tuple[dict, int]:
    """The live entries with `channel_name` (re)registered, and their TTL."""
    ttl = settings.CHAT_PRESENCE_TTL_SECONDS
    now = time.time()
    entries = _live(entries, now)
    entries[channel_name] = now + ttl
    return entries, ttl


def _removed(entries, channel_name) -> tuple[dict, int]:
    """The live entries without `channel_name`, and the TTL of what is left."""
    now = time.time()
    entries = _live(entries, now)
    entries.pop(channel_name, None)
    ttl = max(1, int(max(entries.values()) - now) + 1) if entries else 0
    return entries, ttl


def presence_is_online(*, user_id: int) -> bool:
    return presence_entries_online(cache.get(presence_key(user_id)))


def presence_entries_online(entries: dict | None) -> bool:
    """Whether the value stored under `presence_key` has a live socket."""
    return bool(_live(entries, time.time()))
