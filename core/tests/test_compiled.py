import threading

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext

from accounts.tests.factories import UserFactory
from core.compiled import _MARKER, CompiledValues

pytestmark = pytest.mark.django_db

User = get_user_model()
NAMES = ("id", "email", "date_joined", "is_active")


def _users(pk):
    return (
        User.objects.filter(pk=pk).annotate(double=F("id") * 2).values(*NAMES, "double")
    )


def test_rows_equal_what_the_values_queryset_gives():
    users = UserFactory.create_batch(3)
    statement = CompiledValues(_users, "pk")
    for user in users:
        # Same names, same order, same converted values (aware datetimes on
        # SQLite too, where the column comes back as text).
        assert statement.rows(pk=user.pk) == list(_users(user.pk))
        assert statement.rows(pk=user.pk)[0]["date_joined"] == user.date_joined
    assert statement.rows(pk=max(u.pk for u in users) + 1) == []


def test_it_compiles_once_and_runs_one_statement_per_call():
    users = UserFactory.create_batch(2)
    built = []

    def build(pk):
        built.append(pk)
        return _users(pk)

    statement = CompiledValues(build, "pk")
    with CaptureQueriesContext(connection) as captured:
        for user in users * 2:
            assert statement.rows(pk=user.pk)[0]["id"] == user.pk
    assert len(built) == 1
    assert len(captured) == 4
    # The markers never reach the database.
    assert not any(str(_MARKER) in q["sql"] for q in captured)


def test_another_thread_compiles_for_its_own_connection():
    user = UserFactory()
    statement = CompiledValues(_users, "pk")
    assert statement.rows(pk=user.pk)[0]["email"] == user.email

    seen = []

    def read():
        try:
            # Its own connection object (a thread's): compiled for it anew.
            seen.append(statement.rows(pk=0))
        finally:
            from django.db import connections

            connections.close_all()

    thread = threading.Thread(target=read)
    thread.start()
    thread.join()
    assert seen == [[]]


def test_several_parameters():
    first, second = UserFactory.create_batch(2)
    statement = CompiledValues(
        lambda low, high: User.objects.filter(pk__gte=low, pk__lte=high)
        .order_by("pk")
        .values("id"),
        "low",
        "high",
    )
    assert statement.rows(low=first.pk, high=second.pk) == [
        {"id": first.pk},
        {"id": second.pk},
    ]
    assert statement.rows(high=first.pk, low=first.pk) == [{"id": first.pk}]


@pytest.mark.parametrize(
    "build",
    [
        # The value twice: swapping one would leave the other a marker.
        lambda pk: User.objects.filter(pk=pk, id__gte=pk).values("id"),
        # Turned into text.
        lambda pk: User.objects.filter(email=str(pk)).values("id"),
        # Folded away: not a parameter at all.
        lambda pk: User.objects.filter(pk=1).values("id"),
        # Not a values() queryset.
        lambda pk: User.objects.filter(pk=pk),
    ],
)
def test_a_queryset_it_cannot_run_is_refused_when_compiled(build):
    statement = CompiledValues(build, "pk")
    with pytest.raises(ImproperlyConfigured):
        statement.rows(pk=1)


def test_values_must_be_the_declared_integers():
    statement = CompiledValues(_users, "pk")
    with pytest.raises(TypeError):
        statement.rows()
    with pytest.raises(TypeError):
        statement.rows(pk=1, other=2)
    with pytest.raises(TypeError):
        statement.rows(pk="1")
    with pytest.raises(TypeError):
        statement.rows(pk=True)
