"""PostGIS with the pool's health check of core/dbpool.py.

Django gives its connection pool `ConnectionPool.check_connection` (with
CONN_HEALTH_CHECKS) or no check at all, and a `check` in OPTIONS["pool"]
collides with it; psycopg_pool takes the callback only at construction. So
the pool Django builds gets the throttled check here, once, when first made.
"""

from django.contrib.gis.db.backends.postgis import base
from psycopg_pool import ConnectionPool

from core.dbpool import check_connection_now_and_then


class DatabaseWrapper(base.DatabaseWrapper):
    @property
    def pool(self):
        pool = super().pool
        if pool is not None and pool._check is ConnectionPool.check_connection:
            pool._check = check_connection_now_and_then
        return pool
