"""Who has a socket open, kept in the cache (locmem or Redis) with a TTL.

Each socket registers its channel name under its user's key and refreshes it
while it stays connected; a socket of a process that died simply expires. A user
with no live entry is "offline" and gets e-mails about new messages.
"""

import time

from django.conf import settings
from django.core.cache import cache


def _key(user_id: int) -> str:
    return f"chat:presence:{user_id}"


def _live(entries: dict, now: float) -> dict:
    return {name: exp for name, exp in (entries or {}).items() if exp > now}


def presence_touch(*, user_id: int, channel_name: str) -> None:
    """Register (or refresh) one open socket of the user."""
    ttl = settings.CHAT_PRESENCE_TTL_SECONDS
    now = time.time()
    entries = _live(cache.get(_key(user_id)), now)
    entries[channel_name] = now + ttl
    cache.set(_key(user_id), entries, timeout=ttl)


def presence_remove(*, user_id: int, channel_name: str) -> None:
    """Forget one socket of the user (on disconnect)."""
    now = time.time()
    entries = _live(cache.get(_key(user_id)), now)
    entries.pop(channel_name, None)
    if entries:
        ttl = max(1, int(max(entries.values()) - now) + 1)
        cache.set(_key(user_id), entries, timeout=ttl)
    else:
        cache.delete(_key(user_id))


def presence_is_online(*, user_id: int) -> bool:
    return bool(_live(cache.get(_key(user_id)), time.time()))
