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


async def test_execute_async_round_trip_and_values_the_cache_reads():
    from asgiref.sync import sync_to_async

    from core.cache import redis_close

    backend = caches["default"]
    key = backend.redis_key("raw-test")
    try:
        replies = await backend.execute_async(
            [("SET", key, 0, "EX", 30, "NX"), ("INCR", key), ("INCR", key)]
        )
        assert replies == [b"OK", 1, 2]
        assert await sync_to_async(cache.get)("raw-test") == 2
        value = {"a": [1, "é"]}
        await backend.execute_async([("SET", key, backend.encode(value), "EX", 30)])
        [raw] = await backend.execute_async([("GET", key)])
        assert (
            backend.decode(raw) == value == await sync_to_async(cache.get)("raw-test")
        )
    finally:
        await backend.execute_async([("DEL", key)])
        redis_close()


async def test_execute_async_survives_a_dropped_connection():
    from core.cache import redis_close

    backend = caches["default"]
    try:
        [own_id] = await backend.execute_async([("CLIENT", "ID")])
        # As when Redis restarts: the server drops the idle connection.
        backend.redis_client().execute_command("CLIENT", "KILL", "ID", own_id)

        [new_id] = await backend.execute_async([("CLIENT", "ID")])

        assert new_id != own_id
    finally:
        redis_close()


async def test_execute_async_error_reply_raises_and_drops_the_connection():
    from redis.exceptions import ResponseError

    from core.cache import redis_close

    backend = caches["default"]
    try:
        [own_id] = await backend.execute_async([("CLIENT", "ID")])
        with pytest.raises(ResponseError):
            await backend.execute_async([("NOSUCHCOMMAND",), ("CLIENT", "ID")])
        # The unread reply went with the connection: the next call is clean.
        [new_id] = await backend.execute_async([("CLIENT", "ID")])
        assert new_id != own_id
    finally:
        redis_close()


def test_resp_pack_is_what_redis_py_sends():
    from redis.asyncio.connection import Connection

    from core.cache import _resp_pack

    commands = [
        ("SET", "k", 0, "EX", 61, "NX"),
        ("INCR", "k"),
        ("GET", "é"),
        ("PUBLISH", "ch", b"\x00\x81bin"),
    ]

    assert _resp_pack(commands) == b"".join(Connection().pack_commands(commands))
    with pytest.raises(TypeError):
        _resp_pack([("SET", "k", 1.5)])
