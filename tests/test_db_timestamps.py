"""PostgreSQL: timestamps are read by psycopg's C loader
(core.backends.postgis.UtcTimestamptzLoader) and come out as Django's own
loader gives them."""

import datetime

import pytest
from django.conf import settings
from django.db import connection
from django.db.backends.postgresql.psycopg_any import register_tzloader
from django.utils import timezone

pytestmark = [
    pytest.mark.skipif(not settings.DATABASE_IS_POSTGRES, reason="psycopg's loaders"),
    pytest.mark.django_db,
]

VALUES = (
    "'2026-11-21 19:05:07.123456+00'",
    "'2026-03-01 12:00:00+05'",  # another offset: UTC on the way out
    "'2026-11-21 19:05:07+00'",  # no fraction
    "'0001-01-01 00:00:00.000001+00'",
    "'9999-12-31 23:59:59.999999+00'",
    "NULL",
)
SQL = "SELECT " + ", ".join(f"{v}::timestamptz" for v in VALUES)


def _read(cursor):
    cursor.execute(SQL)
    return cursor.fetchone()


def test_the_connection_reads_timestamps_with_the_c_loader():
    from core.backends.postgis.base import UtcTimestamptzLoader

    if settings.DATABASES["default"]["ENGINE"] != "core.backends.postgis":
        pytest.skip("the pool is off: Django's own backend")
    with connection.cursor() as cursor:
        fast = _read(cursor)
        loader = cursor.cursor.adapters.get_loader(1184, 0)  # timestamptz, text
        assert loader is UtcTimestamptzLoader
        # Django's own loader, as it registers it on a cursor
        register_tzloader(connection.timezone, cursor.cursor)
        assert cursor.cursor.adapters.get_loader(1184, 0) is not UtcTimestamptzLoader
        django = _read(cursor)
    assert fast == django
    assert [v.tzinfo for v in fast if v] == [datetime.UTC] * 5
    assert fast[1] == datetime.datetime(2026, 3, 1, 7, 0, tzinfo=datetime.UTC)


def test_models_get_aware_utc_datetimes():
    from accounts.tests.factories import UserFactory

    joined = timezone.now().replace(microsecond=654321)
    user = UserFactory(date_joined=joined)
    user.refresh_from_db()
    assert user.date_joined == joined
    assert user.date_joined.tzinfo is datetime.UTC
