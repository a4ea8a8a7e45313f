"""A fixed-window counter in the cache; works on locmem and Redis alike."""

import time

from django.core.cache import cache

from core.errors import RateLimited


def rate_limit_hit(*, key: str, limit: int, window_seconds: int) -> None:
    """Count one hit for `key`; raise RateLimited past `limit` in the window."""
    if limit <= 0:
        return
    window = int(time.time() // window_seconds)
    cache_key = f"rl:{key}:{window}"
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
