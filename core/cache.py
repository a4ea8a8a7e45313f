"""Django's Redis cache backend, keeping one redis-py client per connection pool.

Django's `RedisCacheClient.get_client` builds a new `redis.Redis` for every
cache call, and redis-py builds its response-callback table (about 165
entries) in every constructor (redis-py issue #3624). On the chat's send path
that cost more CPU than the Redis commands themselves (docs/chat.md,
"Benchmark"). A `redis.Redis` is thread-safe (each command borrows a
connection from the pool), so one per pool is enough.
"""

import contextlib

from django.core.cache.backends import redis as django_redis

from core.looppool import LoopPool


class RedisCacheClient(django_redis.RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:  # pools live as long as the cache: ids stay valid
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class RedisCache(django_redis.RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = RedisCacheClient

    def redis_key(self, key: str) -> str:
        """The key as stored in Redis (prefix and version added)."""
        return self.make_and_validate_key(key)

    def redis_client(self):
        """The redis-py client of the cache's (write) connection pool."""
        return self._cache.get_client(write=True)

    def execute(self, commands: list) -> list:
        """Send raw commands (tuples such as ("INCR", key)) in one round trip
        (a pipeline, no MULTI) on the cache's (write) connection pool; the
        replies in order. `execute_async` does the same from the event loop."""
        pipeline = self.redis_client().pipeline(transaction=False)
        for command in commands:
            pipeline.execute_command(*command)
        return pipeline.execute()

    def decode(self, raw):
        """A value as `get` returns it, from the bytes a raw GET returned."""
        return None if raw is None else self._cache._serializer.loads(raw)

    def encode(self, value) -> bytes:
        """The bytes `set` stores for a value (for a raw SET)."""
        return self._cache._serializer.dumps(value)

    async def execute_async(self, commands: list) -> list:
        """`redis_execute` on the cache's server."""
        options = {
            name: value
            for name, value in self._options.items()
            if name not in ("serializer", "pool_class", "parser_class")
        }
        return await redis_execute(self._servers[0], commands, **options)


# Connections per event loop and Redis server for `redis_execute`.
REDIS_CONNECTIONS_PER_LOOP = 4
_redis_pools = {}


async def redis_execute(url: str, commands: list, **options) -> list:
    """Send raw commands (tuples such as ("INCR", key)) to the Redis at `url`
    in one round trip, from the running event loop; return the replies as
    Redis sent them (bytes, integers, None), in order. An error reply raises.

    For hot paths on the loop (the chat's send path, every message): on a
    connection of the loop's own (core/looppool.py) instead of a
    redis.asyncio client, whose pool, pipeline and retry layers cost about
    as much CPU per call as the commands' round trip. A connection found
    broken is replaced and the commands sent again once.
    """
    pool = _redis_pools.get(url)
    if pool is None:
        pool = _redis_pools[url] = _redis_loop_pool(url, options)
    from redis.exceptions import ConnectionError, TimeoutError

    try:
        return await _redis_round_trip(pool, commands)
    except (ConnectionError, TimeoutError, OSError):
        return await _redis_round_trip(pool, commands, fresh=True)


async def _redis_round_trip(pool, commands, *, fresh=False):
    request = _resp_pack(commands)
    async with pool.connection(fresh=fresh) as conn:
        await conn.send_packed_command(request, check_health=False)
        return [await conn.read_response() for _ in commands]


def _resp_pack(commands: list) -> bytes:
    """Commands in the Redis protocol (RESP arrays of bulk strings). redis-py's
    general packer (chunking, memoryviews, encoder objects) cost more than
    the round trip for these few short commands."""
    parts = []
    for command in commands:
        parts.append(b"*%d\r\n" % len(command))
        for arg in command:
            if isinstance(arg, str):
                arg = arg.encode()
            elif isinstance(arg, int):
                arg = b"%d" % arg
            elif not isinstance(arg, bytes):
                raise TypeError(f"Redis argument of type {type(arg).__name__}")
            parts.append(b"$%d\r\n%b\r\n" % (len(arg), arg))
    return b"".join(parts)


def _redis_loop_pool(url: str, options: dict) -> LoopPool:
    from redis import asyncio as aioredis

    # Used for its connection settings only (from the URL and the options).
    factory = aioredis.ConnectionPool.from_url(url, **options)

    async def connect():
        conn = factory.make_connection()
        await conn.connect()
        return conn

    def discard(conn):
        with contextlib.suppress(Exception):
            conn._close()  # closes the transport without waiting

    return LoopPool(
        connect=connect,
        reusable=lambda conn: conn.is_connected,
        discard=discard,
        size=REDIS_CONNECTIONS_PER_LOOP,
    )


def redis_close() -> None:
    """Close the idle connections of `redis_execute` (tests, whose loops end)."""
    for pool in _redis_pools.values():
        pool.close()
