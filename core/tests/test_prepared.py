"""core.prepared: reads by primary key as prepared statements on PostgreSQL."""

import re

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Value
from django.test.utils import CaptureQueriesContext

from accounts.tests.factories import UserFactory
from core import prepared
from core.compiled import CompiledValues
from listings.selectors import listing_detail_row
from listings.tests.factories import ListingFactory

pytestmark = pytest.mark.django_db

postgres_only = pytest.mark.skipif(
    not settings.DATABASE_IS_POSTGRES, reason="prepared statements are PostgreSQL's"
)


def _users(pk, tag: str):
    """A read of one user whose SQL names `tag`: each test its own statement
    (a pooled connection keeps what an earlier test prepared)."""
    return (
        get_user_model()
        .objects.filter(pk=pk)
        .annotate(**{tag: Value(1)})
        .values("id", "email", "date_joined", tag)
    )


def _prepared(tag: str) -> list[str]:
    """This connection's prepared statements that name `tag`."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [row[0] for row in cursor.fetchall() if tag in row[0]]


@postgres_only
def test_a_prepared_read_is_prepared_once_and_gives_the_same_rows():
    users = UserFactory.create_batch(3)
    statement = CompiledValues(lambda pk: _users(pk, "t_once"), "pk", prepared=True)
    for user in users * 3:
        assert statement.rows(pk=user.pk) == list(_users(user.pk, "t_once"))
    # One statement on the server for every key (same parameter type).
    assert len(_prepared("t_once")) == 1
    # Timestamps come back as the ordinary cursor gives them (aware, UTC).
    assert statement.rows(pk=users[0].pk)[0]["date_joined"] == users[0].date_joined


@postgres_only
def test_an_unprepared_read_leaves_nothing_on_the_server():
    user = UserFactory()
    statement = CompiledValues(lambda pk: _users(pk, "t_unprepared"), "pk")
    for _ in range(6):
        statement.rows(pk=user.pk)
    assert _prepared("t_unprepared") == []


@postgres_only
def test_logged_queries_show_their_values_and_are_not_prepared():
    user = UserFactory()
    statement = CompiledValues(lambda pk: _users(pk, "t_logged"), "pk", prepared=True)
    with CaptureQueriesContext(connection) as captured:
        statement.rows(pk=user.pk)
    # The log shows the statement as every other: with its value, not $1.
    assert f'"accounts_user"."id" = {user.pk}' in captured[0]["sql"]
    assert _prepared("t_logged") == []


@postgres_only
def test_turned_off_nothing_is_prepared(monkeypatch):
    monkeypatch.setattr(settings, "DATABASE_PREPARED_STATEMENTS", False)
    user = UserFactory()
    statement = CompiledValues(lambda pk: _users(pk, "t_off"), "pk", prepared=True)
    assert statement.rows(pk=user.pk)[0]["id"] == user.pk
    assert _prepared("t_off") == []


@postgres_only
def test_errors_are_djangos():
    from django.db import DataError

    with pytest.raises(DataError), prepared.cursor(connection) as cursor:
        cursor.execute("SELECT 1 / %s", [0])


@postgres_only
def test_the_listing_detail_is_prepared():
    listing = ListingFactory()
    rows = [listing_detail_row(None, listing.pk) for _ in range(3)]
    assert rows[0] == rows[2]
    assert rows[0]["id"] == listing.pk
    assert any(
        re.search(r'WHERE "listings_listing"."id" = \$\d+ ', statement)
        for statement in _prepared('FROM "listings_listing"')
    )


def test_without_postgresql_it_is_the_ordinary_cursor():
    if settings.DATABASE_IS_POSTGRES:
        pytest.skip("the SQLite case")
    with prepared.cursor(connection) as cursor:
        cursor.execute("SELECT 1")
        assert cursor.fetchone() == (1,)
