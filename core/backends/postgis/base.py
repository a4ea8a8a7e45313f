"""PostGIS with the pool's health check of core/dbpool.py, and the geometry
adapters registered once per pooled connection.

Django gives its connection pool `ConnectionPool.check_connection` (with
CONN_HEALTH_CHECKS) or no check at all, and a `check` in OPTIONS["pool"]
collides with it; psycopg_pool takes the callback only at construction. So
the pool Django builds gets the throttled check here, once, when first made.
"""

import threading
import weakref

from django.contrib.gis.db.backends.postgis import base
from psycopg_pool import ConnectionPool

from core.dbpool import check_connection_now_and_then

_TYPE_NAMES = ("geometry", "geography", "raster")
# psycopg connection -> the PostGIS type infos its adapters were made from.
_registered: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_lock = threading.Lock()


class DatabaseWrapper(base.DatabaseWrapper):
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
