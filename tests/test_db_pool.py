"""PostgreSQL connections come from a pool (DATABASE_POOL, on by default).

Under ASGI each request's sync code runs in a thread of its own: persistent
connections (CONN_MAX_AGE > 0) were left open by every finished thread until
PostgreSQL refused new clients (bench/FINDINGS.md, 6)."""

import subprocess
import sys

import pytest
from django.conf import settings
from django.db import connection

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


def _database_settings(**env) -> str:
    code = (
        "import django, json; django.setup();"
        "from django.conf import settings;"
        "d = settings.DATABASES['default'];"
        "print(json.dumps([d['CONN_MAX_AGE'], d['OPTIONS'].get('pool')]))"
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
        == '[0, {"min_size": 1, "max_size": 3, "timeout": 10.0}]'
    )


def test_without_the_pool_connections_persist_for_conn_max_age():
    assert (
        _database_settings(DATABASE_POOL="false", DATABASE_CONN_MAX_AGE="30")
        == "[30, null]"
    )


def test_spatialite_has_no_pool():
    assert (
        _database_settings(DATABASE_URL="spatialite:////tmp/x.sqlite3") == "[60, null]"
    )
