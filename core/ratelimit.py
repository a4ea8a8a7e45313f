"""A fixed-window counter in the cache; works on locmem and Redis alike."""

import time

from django.core.cache import cache, caches

from core.cache import RedisCache
from core.errors import RateLimited


def rate_limit_hit(*, key: str, limit: int, window_seconds: int) -> None:
    """Count one hit for `key`; raise RateLimited past `limit` in the window."""
    if limit <= 0:
        return
    cache_key = rate_limit_cache_key(key=key, window_seconds=window_seconds)
    backend = caches["default"]
    if isinstance(backend, RedisCache):
        commands = rate_limit_count_commands(
            backend.redis_key(cache_key), window_seconds=window_seconds
        )
        count = backend.execute(commands)[-1]
    else:
        try:
            count = cache.incr(cache_key)
        except ValueError:  # first hit of the window
            if cache.add(cache_key, 1, timeout=window_seconds + 1):
                count = 1
            else:  # another request created it meanwhile
                count = cache.incr(cache_key)
    rate_limit_check(count=count, limit=limit, window_seconds=window_seconds)


def rate_limit_cache_key(*, key: str, window_seconds: int) -> str:
    """The cache key of the current window's counter."""
    return f"rl:{key}:{int(time.time() // window_seconds)}"


def rate_limit_count_commands(redis_key: str, *, window_seconds: int) -> list:
    """The Redis commands that count one hit; the last reply is the count.

    Every chat message passes here: one round trip (create the counter with
    its expiry if missing, then count) instead of the three that
    cache.incr/cache.add take. The value stays an integer that cache.get
    reads, as Django's Redis serializer stores integers as they are.
    """
    return [
        ("SET", redis_key, 0, "EX", window_seconds + 1, "NX"),
        ("INCR", redis_key),
    ]


def rate_limit_check(*, count: int, limit: int, window_seconds: int) -> None:
    """Raise RateLimited if `count` hits are over `limit` (0: no limit), with
    the seconds until the next window starts a fresh count."""
    if 0 < limit < count:
        raise RateLimited(
            f"You are sending messages too fast; wait {window_seconds} seconds.",
            retry_after=window_seconds - int(time.time()) % window_seconds,
        )
