"""A fixed-window counter in the cache; works on locmem and Redis alike."""

import time

from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache

from core.errors import RateLimited


def rate_limit_hit(*, key: str, limit: int, window_seconds: int) -> None:
    """Count one hit for `key`; raise RateLimited past `limit` in the window."""
    if limit <= 0:
        return
    window = int(time.time() // window_seconds)
    cache_key = f"rl:{key}:{window}"
    if isinstance(caches["default"], RedisCache):
        count = _redis_count(cache_key, window_seconds + 1)
    else:
        try:
            count = cache.incr(cache_key)
        except ValueError:  # first hit of the window
            if cache.add(cache_key, 1, timeout=window_seconds + 1):
                count = 1
            else:  # another request created it meanwhile
                count = cache.incr(cache_key)
    if count > limit:
        raise RateLimited(
            f"You are sending messages too fast; wait {window_seconds} seconds."
        )


def _redis_count(cache_key: str, timeout: int) -> int:
    # Every chat message passes here: one round trip (create the counter with
    # its expiry if missing, then count) instead of the three that
    # cache.incr/cache.add take. The value stays an integer that cache.get
    # reads, as Django's Redis serializer stores integers as they are.
    backend = caches["default"]
    key = backend.make_and_validate_key(cache_key)
    client = backend._cache.get_client(key, write=True)
    pipeline = client.pipeline(transaction=False)
    pipeline.set(key, 0, ex=timeout, nx=True)
    pipeline.incr(key)
    return pipeline.execute()[1]
