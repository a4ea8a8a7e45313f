"""The health check of the PostgreSQL connection pool (settings.DATABASES).

With CONN_HEALTH_CHECKS, Django has the pool check every connection it hands
out (`ConnectionPool.check_connection`: an empty statement, one round trip).
That is one more round trip in every request: on a listing's API detail, a
quarter of its CPU (bench/FINDINGS.md, 11). A connection that answered a
moment ago is almost surely still there, so, as HikariCP does with its
"alive bypass window", a connection is checked only when its last check is
older than DATABASE_POOL_CHECK_INTERVAL seconds. Under load that is about
once a second per connection; after a quiet spell, at every hand-out.

What it gives up: a connection that breaks (the server restarts, a proxy
drops it) within the interval after its last check fails the one request
that gets it; Django then closes it and the pool discards it.
"""

from __future__ import annotations

import logging
import threading
import time
import weakref

from django.conf import settings
from django.db import connections
from psycopg_pool import ConnectionPool

logger = logging.getLogger(__name__)

_checked_at: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def check_connection_now_and_then(conn) -> None:
    """psycopg_pool `check` callback: ConnectionPool.check_connection at most
    once per DATABASE_POOL_CHECK_INTERVAL seconds per connection. Raises as
    it does, and then the pool discards the connection and tries another."""
    now = time.monotonic()
    with _lock:
        last = _checked_at.get(conn)
    if last is not None and now - last < settings.DATABASE_POOL_CHECK_INTERVAL:
        return
    ConnectionPool.check_connection(conn)
    with _lock:
        _checked_at[conn] = now


def open_pools(*, timeout: float = 10) -> None:
    """Open every database pool of this process now, waiting up to `timeout`
    seconds for each pool's minimum size. Called by marketplace.wsgi when a
    server process loads the application, before its first request.

    Django opens a pool at the first request that needs a connection; that
    request waits for it, the pool grows while requests queue for the first
    connections, and the stall shows in the tail latency of a freshly started
    worker (bench: p99 50 -> 180 ms when a worker's pool was made inside a
    measured window). A database that is not reachable yet is only logged:
    it delays the start, never stops the worker from serving (the pool keeps
    trying in the background)."""
    for connection in connections.all():
        pool = getattr(connection, "pool", None)
        if pool is None:
            continue
        try:
            pool.open(wait=True, timeout=timeout)
        except Exception as exc:  # PoolTimeout: the database is not there yet
            logger.warning(
                "Database pool %r not ready at start: %s", connection.alias, exc
            )
