"""PostgreSQL connections come from a pool (DATABASE_POOL, on by default).

Under ASGI each request's sync code runs in a thread of its own: persistent
connections (CONN_MAX_AGE > 0) were left open by every finished thread until
PostgreSQL refused new clients (bench/FINDINGS.md, 6)."""

import subprocess
import sys

import pytest
from django.conf import settings
from django.db import connection

from core.dbpool import check_connection_now_and_then
from tests.utils import BASE_DIR

postgres_only = pytest.mark.skipif(
    not settings.DATABASE_IS_POSTGRES, reason="the pool is PostgreSQL's"
)


@postgres_only
@pytest.mark.django_db
def test_connections_come_from_a_pool_not_kept_per_thread():
    assert settings.DATABASES["default"]["CONN_MAX_AGE"] == 0
    assert connection.pool is not None
    assert connection.pool.max_size == 8
    # Checked by core.dbpool (now and then), not by Django at every hand-out.
    assert connection.pool._check is check_connection_now_and_then


class _Connection:
    """Stands in for a psycopg connection (hashable, weakly referenced)."""


@pytest.fixture
def checks(monkeypatch):
    from psycopg_pool import ConnectionPool

    seen = []

    def check_connection(conn):
        seen.append(conn)
        if getattr(conn, "broken", False):
            raise OSError("server closed the connection unexpectedly")

    monkeypatch.setattr(ConnectionPool, "check_connection", check_connection)
    clock = [1000.0]
    monkeypatch.setattr("core.dbpool.time.monotonic", lambda: clock[0])
    return seen, clock


def test_a_connection_is_checked_at_most_once_per_interval(checks, settings):
    seen, clock = checks
    settings.DATABASE_POOL_CHECK_INTERVAL = 1.0
    first, second = _Connection(), _Connection()
    for _ in range(3):
        check_connection_now_and_then(first)
    check_connection_now_and_then(second)
    assert seen == [first, second]
    clock[0] += 0.9
    check_connection_now_and_then(first)
    assert seen == [first, second]
    clock[0] += 0.2
    check_connection_now_and_then(first)
    assert seen == [first, second, first]


def test_interval_zero_checks_every_hand_out(checks, settings):
    seen, _ = checks
    settings.DATABASE_POOL_CHECK_INTERVAL = 0
    conn = _Connection()
    for _ in range(3):
        check_connection_now_and_then(conn)
    assert seen == [conn] * 3


def test_a_failed_check_raises_and_is_tried_again_next_time(checks, settings):
    seen, _ = checks
    settings.DATABASE_POOL_CHECK_INTERVAL = 1.0
    conn = _Connection()
    conn.broken = True
    for _ in range(2):
        with pytest.raises(OSError):
            check_connection_now_and_then(conn)
    assert seen == [conn, conn]


def _database_settings(**env) -> str:
    code = (
        "import django, json; django.setup();"
        "from django.conf import settings;"
        "d = settings.DATABASES['default'];"
        "p = d['OPTIONS'].get('pool');"
        "print(json.dumps([d['CONN_MAX_AGE'], p, d['ENGINE']]))"
    )
    base = {
        "PATH": "/usr/bin:/bin",
        "DJANGO_SETTINGS_MODULE": "marketplace.settings",
        "DJANGO_READ_DOT_ENV": "false",
        "DATABASE_URL": "postgis://u@127.0.0.1:5432/x",
    }
    done = subprocess.run(
        [sys.executable, "-c", code],
        env={**base, **env},
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


def test_pool_sizes_come_from_the_environment():
    assert (
        _database_settings(DATABASE_POOL_MIN_SIZE="1", DATABASE_POOL_MAX_SIZE="3")
        == '[0, {"min_size": 1, "max_size": 3, "timeout": 10.0}, '
        '"core.backends.postgis"]'
    )


def test_without_the_pool_connections_persist_for_conn_max_age():
    assert (
        _database_settings(DATABASE_POOL="false", DATABASE_CONN_MAX_AGE="30")
        == '[30, null, "django.contrib.gis.db.backends.postgis"]'
    )


def test_spatialite_has_no_pool():
    assert (
        _database_settings(DATABASE_URL="spatialite:////tmp/x.sqlite3")
        == '[60, null, "django.contrib.gis.db.backends.spatialite"]'
    )


@pytest.fixture
def geometry_registrations(monkeypatch):
    """The calls that reach Django's register_geometry_adapters."""
    from django.contrib.gis.db.backends.postgis import base

    calls = []
    django_register = base.DatabaseWrapper.register_geometry_adapters

    def register(self, pg_connection, clear_caches=False):
        calls.append((pg_connection, clear_caches))
        return django_register(self, pg_connection, clear_caches)

    monkeypatch.setattr(base.DatabaseWrapper, "register_geometry_adapters", register)
    return calls


def _geometry_round_trip():
    """A point sent with the dumper and read back with the loader."""
    from django.contrib.gis.db.backends.postgis.adapter import PostGISAdapter
    from django.contrib.gis.geos import GEOSGeometry, Point

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT %s::geometry", [PostGISAdapter(Point(76.9, 43.2, srid=4326))]
        )
        return GEOSGeometry(cursor.fetchone()[0])


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_pooled_connection_gets_the_geometry_adapters_once(geometry_registrations):
    """Django opens a connection per request and registers the PostGIS
    adapters on it each time; the pool's connection already has them."""
    connection.close()
    seen = set()
    # More hand-outs than the pool has connections: each is reused.
    for _ in range(3 * connection.pool.max_size):
        connection.ensure_connection()
        seen.add(id(connection.connection))
        # Loaders and dumpers still work on the reused connection.
        assert _geometry_round_trip().coords == (76.9, 43.2)
        connection.close()
    registered = {id(conn) for conn, _ in geometry_registrations}
    assert registered <= seen
    assert len(seen) <= connection.pool.max_size
    assert len(geometry_registrations) == len(registered)  # once each

    # After the extension is (re)created the caches are cleared: always again.
    connection.ensure_connection()
    connection.register_geometry_adapters(connection.connection, clear_caches=True)
    assert geometry_registrations[-1] == (connection.connection, True)
    assert _geometry_round_trip().coords == (76.9, 43.2)
    connection.close()


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_the_adapters_are_registered_again_when_the_type_infos_change(
    geometry_registrations,
):
    connection.ensure_connection()
    pg_connection = connection.connection
    count = len(geometry_registrations)
    connection.register_geometry_adapters(pg_connection)
    assert len(geometry_registrations) == count  # nothing new: skipped

    registry = connection._type_infos["geometry"]
    registry.pop(connection.alias)  # as after clear_caches elsewhere
    connection.register_geometry_adapters(pg_connection)
    assert len(geometry_registrations) == count + 1
    assert _geometry_round_trip().coords == (76.9, 43.2)
    connection.close()
