"""Prepared statements for reads whose plan cannot depend on their values.

PostgreSQL parses and plans every statement Django sends (client-side
binding, no prepared statements: Django's defaults, kept for everything
else). For a listing's detail, a primary-key read joined to its category,
seller and photos, planning took 0.5 ms and running it 0.15 ms; prepared,
only the run is left (pgbench at 1M listings: 0.76 -> 0.14 ms per statement;
bench/FINDINGS.md, 13). A prepared statement is planned for its first five
runs and then, when that is not dearer, once for good (a generic plan):
right for a read by primary keys, whose best plan is the same for every
key; wrong for a search, whose best plan depends on what it looks for
(reused plans made one search 100x slower), so searches stay as they are.

`cursor(connection)` gives a Django cursor (its execute wrappers, error
translation and query logging as usual) that binds server-side and prepares
each statement on this connection at its first run. Where queries are logged
(DEBUG, a test's query capture), or prepared statements are off
(DATABASE_PREPARED_STATEMENTS=false, for a transaction-mode connection
pooler without prepared statement support), it is the ordinary cursor: the
log then shows each statement with its values, as for every other.
"""

from __future__ import annotations

from django.conf import settings
from django.db.backends.postgresql.base import (
    TIMESTAMPTZ_OID,
    ServerBindingCursor,
)
from django.db.backends.postgresql.psycopg_any import register_tzloader
from psycopg.pq import Format


class PreparingCursor(ServerBindingCursor):
    """Binds server-side and prepares every statement it runs. (The
    connection's prepare_threshold, set in settings, is too high for psycopg
    ever to prepare on its own; Django's other cursors bind client-side and
    never prepare.)"""

    def execute(self, query, params=None, *, prepare=None, binary=None):
        return super().execute(query, params, prepare=True, binary=binary)


def cursor(connection):
    """A cursor of `connection` that prepares its statements (see above)."""
    if (
        connection.vendor != "postgresql"
        or not settings.DATABASE_PREPARED_STATEMENTS
        or connection.queries_logged
    ):
        return connection.cursor()
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    with connection.wrap_database_errors:
        raw = PreparingCursor(connection.connection)
        # As Django's create_cursor: its time zone where the connection's
        # timestamp loader has another.
        loader = connection.connection.adapters.get_loader(TIMESTAMPTZ_OID, Format.TEXT)
        if connection.timezone != loader.timezone:
            register_tzloader(connection.timezone, raw)
    # The wrapping every Django cursor gets (execute wrappers, logging).
    return connection._prepare_cursor(raw)
