"""core.looppool.LoopPool: connections of the running event loop."""

import asyncio

import pytest

from core.looppool import LoopPool


class FakeConnection:
    def __init__(self, n):
        self.n = n
        self.closed = False


def _pool(size=2):
    made = []

    async def connect():
        made.append(FakeConnection(len(made)))
        return made[-1]

    def discard(conn):
        conn.closed = True

    pool = LoopPool(
        connect=connect, reusable=lambda c: not c.closed, discard=discard, size=size
    )
    return pool, made


async def test_a_connection_is_reused_after_use():
    pool, made = _pool()

    async with pool.connection() as first:
        pass
    async with pool.connection() as second:
        pass

    assert second is first
    assert len(made) == 1


async def test_a_connection_that_saw_an_error_is_closed_not_reused():
    pool, made = _pool()

    with pytest.raises(RuntimeError):
        async with pool.connection():
            raise RuntimeError("broken")
    async with pool.connection() as conn:
        pass

    assert made[0].closed is True
    assert conn is made[1]


async def test_fresh_drops_the_idle_connections():
    pool, made = _pool()
    async with pool.connection():
        pass

    async with pool.connection(fresh=True) as conn:
        pass

    assert (made[0].closed, conn is made[1]) == (True, True)


async def test_at_most_size_connections_at_once():
    pool, made = _pool(size=2)
    inside = []

    async def use():
        async with pool.connection() as conn:
            inside.append(conn)
            await asyncio.sleep(0.01)
            assert len({id(c) for c in inside}) <= 2
            inside.remove(conn)

    await asyncio.gather(*(use() for _ in range(6)))

    assert len(made) == 2


async def test_close_ends_the_idle_connections():
    pool, made = _pool()
    async with pool.connection():
        pass

    pool.close()

    assert made[0].closed is True
