"""core.cache.RedisCache: Django's Redis cache with one redis-py client per pool."""

import pytest
from django.core.cache import cache, caches

from core.cache import RedisCache

pytestmark = pytest.mark.services


def test_one_client_per_pool_is_reused():
    backend = caches["default"]

    first = backend._cache.get_client("k", write=True)

    assert isinstance(backend, RedisCache)
    assert backend._cache.get_client("k", write=True) is first
    assert backend._cache.get_client("k") is first  # one server: one pool


def test_cache_calls_behave_as_before():
    cache.set("cache-test", {"a": 1}, timeout=30)
    assert cache.add("cache-test", "other") is False
    assert cache.get("cache-test") == {"a": 1}

    cache.set("cache-count", 1)
    assert cache.incr("cache-count") == 2
    cache.delete("cache-test")

    assert cache.get("cache-test") is None
    with pytest.raises(ValueError):
        cache.incr("cache-missing")
