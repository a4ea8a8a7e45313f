"""PostgreSQL from the event loop, for the websocket's send path.

Every ORM call of a consumer hops to a worker thread (`database_sync_to_async`)
and, with the connection pool, takes a connection and checks it with a round
trip. For a text message from a socket `chat.services.message_send_async`
runs its two statements here instead: on a few autocommit psycopg
connections that belong to the running event loop, with the same SQL and
parameters as the sync path.

The statements are prepared on first use (server-side binding): this path
runs the same two statements for every message, and PostgreSQL then skips
parsing and planning them (a third less database CPU per message). A
connection pooler in transaction mode that cannot keep prepared statements
(pgbouncer < 1.21) needs DATABASE_PREPARED_STATEMENTS=false.

A connection found broken is dropped; `fetchone` retries a read once on a new
one (a restarted database must not fail a send). Connections live as long as
their process; `close()` ends them (tests, whose event loops end).
"""

from django.conf import settings
from django.db import connection as django_connection

from core.looppool import LoopPool

# Connections per event loop (per server process), besides the sync pool
# (DATABASE_POOL_MAX_SIZE).
CONNECTIONS_PER_LOOP = 4

# Django's connection options that are not libpq's.
_NOT_LIBPQ = ("context", "cursor_factory", "prepare_threshold", "pool")


def available() -> bool:
    """Whether the send path can run here (PostgreSQL)."""
    return settings.DATABASE_IS_POSTGRES


async def _connect():
    import psycopg

    params = django_connection.get_connection_params()
    for name in _NOT_LIBPQ:
        params.pop(name, None)
    return await psycopg.AsyncConnection.connect(
        **params,
        autocommit=True,
        prepare_threshold=0 if settings.DATABASE_PREPARED_STATEMENTS else None,
    )


def _reusable(conn) -> bool:
    from psycopg.pq import TransactionStatus

    return not conn.closed and conn.info.transaction_status == TransactionStatus.IDLE


def _discard(conn) -> None:
    # libpq closes the socket: no round trip, no event loop needed.
    conn.pgconn.finish()


_pool = LoopPool(
    connect=_connect, reusable=_reusable, discard=_discard, size=CONNECTIONS_PER_LOOP
)


def connection(*, fresh: bool = False):
    """An autocommit connection of the running loop (`async with`)."""
    return _pool.connection(fresh=fresh)


async def fetchone(sql: str, params: list):
    """Run one statement and return its first row; on a broken connection the
    statement runs again once on a new one, so use it for reads only."""
    import psycopg

    try:
        async with connection() as conn:
            return await (await conn.execute(sql, params)).fetchone()
    except psycopg.OperationalError:
        async with connection(fresh=True) as conn:
            return await (await conn.execute(sql, params)).fetchone()


def close() -> None:
    """Close every idle connection (tests: before the test database goes)."""
    _pool.close()
