"""PostGIS with the pool's health check of core/dbpool.py, the geometry
adapters registered once per pooled connection, and timestamps read by
psycopg's C loader.

Django gives its connection pool `ConnectionPool.check_connection` (with
CONN_HEALTH_CHECKS) or no check at all, and a `check` in OPTIONS["pool"]
collides with it; psycopg_pool takes the callback only at construction. So
the pool Django builds gets the throttled check here, once, when first made.
"""

import datetime
import threading
import weakref
from functools import lru_cache

from django.contrib.gis.db.backends.postgis import base
from psycopg import adapt, pq
from psycopg_pool import ConnectionPool

from core.dbpool import check_connection_now_and_then

_TYPE_NAMES = ("geometry", "geography", "raster")
# psycopg connection -> the PostGIS type infos its adapters were made from.
_registered: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_lock = threading.Lock()


# psycopg's compiled loader of timestamptz text, where installed.
if pq.__impl__ == "binary":
    from psycopg_binary._psycopg import TimestamptzLoader as _CTimestamptzLoader
else:
    _CTimestamptzLoader = None


class UtcTimestamptzLoader(adapt.Loader):
    """timestamptz in UTC, parsed by psycopg's C loader.

    Django registers a Python subclass of psycopg's pure-Python loader (it
    replaces the tzinfo with the connection's time zone), so every timestamp
    read is parsed in Python: 63 of them on a page of 21 cards, ~0.2 ms. On a
    connection whose TimeZone is UTC (Django's with USE_TZ and no TIME_ZONE
    of the database's own) the C loader gives the same values, with tzinfo
    datetime.UTC; the compiled class cannot be subclassed, so its bound
    `load` stands in for this one's. `timezone` is what Django's
    `create_cursor` compares to decide whether to register its own."""

    timezone = datetime.UTC

    def __init__(self, oid, context=None):
        super().__init__(oid, context)
        self.load = _CTimestamptzLoader(oid, context).load

    def load(self, data):  # replaced per instance (above)
        raise NotImplementedError


@lru_cache
def _adapters_with_c_timestamps(template: adapt.AdaptersMap) -> adapt.AdaptersMap:
    adapters = adapt.AdaptersMap(template)
    adapters.register_loader("timestamptz", UtcTimestamptzLoader)
    return adapters


class DatabaseWrapper(base.DatabaseWrapper):
    def get_connection_params(self):
        params = super().get_connection_params()
        # Only where Django's loader would give UTC datetimes too: the
        # connection's TimeZone is then UTC (Django sets it).
        if (
            "context" in params
            and self.timezone is datetime.UTC
            and self.timezone_name == "UTC"
            and _CTimestamptzLoader is not None
        ):
            params["context"] = _adapters_with_c_timestamps(params["context"])
        return params

    @property
    def pool(self):
        pool = super().pool
        if pool is not None and pool._check is ConnectionPool.check_connection:
            pool._check = check_connection_now_and_then
        return pool

    def register_geometry_adapters(self, pg_connection, clear_caches=False):
        """Django's, skipped when this psycopg connection already has them.

        Django calls it for every connection it opens, and with the pool it
        opens one per request: the pool's psycopg connection comes back with
        the loaders and dumpers registered on it the last time (~10 us a
        request to register again). They are registered again whenever the
        type infos they came from changed, and always with `clear_caches`
        (the postgis extension just created)."""
        infos = self._geometry_type_infos()
        if not clear_caches and infos is not None:
            with _lock:
                done = _registered.get(pg_connection)
            if done == infos:
                return
        super().register_geometry_adapters(pg_connection, clear_caches)
        infos = self._geometry_type_infos()
        with _lock:
            _registered[pg_connection] = infos

    def _geometry_type_infos(self) -> tuple | None:
        """The cached TypeInfo (or None: no such type) of each PostGIS type,
        or None while one is not looked up yet."""
        try:
            return tuple(self._type_infos[name][self.alias] for name in _TYPE_NAMES)
        except KeyError:
            return None
