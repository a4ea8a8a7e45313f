import threading
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.tests.factories import UserFactory
from core.compiled import _MARKER, CompiledShapes, CompiledValues, NotCompilable

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
    # Built twice once (two sets of markers, compared), then never again.
    assert len(built) == 2
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


def test_a_value_used_twice_is_swapped_everywhere():
    first, second = UserFactory.create_batch(2)
    statement = CompiledValues(
        lambda pk: User.objects.filter(pk=pk, id__gte=pk).values("id"), "pk"
    )
    assert statement.rows(pk=second.pk) == [{"id": second.pk}]
    assert statement.rows(pk=first.pk) == [{"id": first.pk}]


# --- CompiledShapes ---------------------------------------------------------------


def _joined_since(values):
    """A shape-free build over every kind of value."""
    return (
        User.objects.filter(
            pk__in=values["ids"],
            date_joined__gte=values["since"],
            email__startswith=values["prefix"],
        )
        .annotate(scaled=F("id") * values["factor"])
        .order_by("-pk")
        .values("id", "email", "scaled")
    )


def _kinds_values(users, **overrides):
    values = {
        "ids": tuple(u.pk for u in users),
        "since": users[0].date_joined - timedelta(days=1),
        "prefix": "",
        "factor": 2.5,
    }
    values.update(overrides)
    return values


def test_shapes_give_what_the_orm_gives_for_every_kind_of_value():
    users = UserFactory.create_batch(3)
    statements = CompiledShapes()
    for values in (
        _kinds_values(users),
        _kinds_values(users[:2], factor=0.5),
        _kinds_values(users, prefix=users[1].email[:4]),
        _kinds_values(users, since=timezone.now() + timedelta(days=1)),
    ):
        expected = list(_joined_since(values))
        assert statements.rows("kinds", _joined_since, values) == expected


def test_a_tuple_of_another_length_is_another_statement():
    users = UserFactory.create_batch(3)
    statements = CompiledShapes()
    built = []

    def build(values):
        built.append(values["ids"])
        return User.objects.filter(pk__in=values["ids"]).order_by("pk").values("id")

    for n in (1, 2, 3, 2, 1):
        ids = tuple(u.pk for u in users[:n])
        assert statements.rows("ids", build, {"ids": ids}) == [{"id": i} for i in ids]
    assert len(built) == 3 * 2


def test_an_empty_tuple_runs_no_query():
    statements = CompiledShapes()

    def build(values):
        return User.objects.filter(pk__in=values["ids"]).values("id")

    with CaptureQueriesContext(connection) as captured:
        assert statements.rows("ids", build, {"ids": ()}) == []
        assert statements.rows("ids", build, {"ids": ()}) == []
    assert len(captured) == 0


def test_values_list_rows_are_tuples_in_the_order_asked_for():
    user = UserFactory()
    statements = CompiledShapes()

    def build(values):
        return (
            User.objects.filter(pk=values["pk"])
            .annotate(double=F("id") * 2)
            .values_list("double", "email", "id")
        )

    expected = list(build({"pk": user.pk}))
    assert statements.rows("list", build, {"pk": user.pk}) == expected
    assert expected == [(user.pk * 2, user.email, user.pk)]


def test_a_time_read_while_building_is_not_compiled_but_still_runs():
    user = UserFactory()
    statements = CompiledShapes()

    def build(values):
        # now() is not a value: compiling it would freeze it.
        return User.objects.filter(
            pk=values["pk"], date_joined__lte=timezone.now()
        ).values("id")

    with pytest.raises(NotCompilable):
        statements.rows("now", build, {"pk": user.pk}, strict=True)
    # Not strict: the ORM's way, every time.
    assert statements.rows("now", build, {"pk": user.pk}) == [{"id": user.pk}]
    assert statements.rows("now", build, {"pk": user.pk}) == [{"id": user.pk}]


def test_an_escaped_value_is_not_compiled():
    user = UserFactory(email="a_b%c@example.com")
    statements = CompiledShapes()

    def build(values):
        return User.objects.filter(email__icontains=values["part"]).values("id")

    with pytest.raises(NotCompilable):
        statements.rows("escaped", build, {"part": "_b%"}, strict=True)
    assert statements.rows("escaped", build, {"part": "_b%"}) == [{"id": user.pk}]
    assert statements.rows("escaped", build, {"part": "x_b%"}) == []


def test_booleans_and_none_belong_in_the_shape():
    statements = CompiledShapes()
    for value in (True, None, [1]):
        with pytest.raises(TypeError):
            statements.rows("bad", lambda v: User.objects.values("id"), {"x": value})


def test_the_cache_keeps_its_newest_shapes():
    user = UserFactory()
    statements = CompiledShapes(maxsize=2)
    built = []

    def build(values):
        built.append(1)
        return User.objects.filter(pk=values["pk"]).values("id")

    for shape in ("a", "b", "c", "a"):
        assert statements.rows(shape, build, {"pk": user.pk}) == [{"id": user.pk}]
    # "a" was dropped when "c" came, and compiled again.
    assert len(built) == 4 * 2


def test_a_32_bit_column_takes_markers_too():
    from listings.models import Listing
    from listings.tests.factories import ListingFactory

    low, high = ListingFactory(view_count=3), ListingFactory(view_count=70)
    statements = CompiledShapes()

    def build(values):
        return (
            Listing.objects.filter(view_count__gte=values["views"])
            .order_by("pk")
            .values("id")
        )

    for views in (0, 4, 71):
        expected = list(build({"views": views}))
        rows = statements.rows("views", build, {"views": views}, strict=True)
        assert rows == expected
    assert statements.rows("views", build, {"views": 4}) == [{"id": high.pk}]
    assert {r["id"] for r in statements.rows("views", build, {"views": 0})} == {
        low.pk,
        high.pk,
    }


def test_a_finished_threads_connection_is_not_kept_alive():
    import gc
    import weakref

    from django.db import connections

    user = UserFactory()
    statements = CompiledShapes()
    seen = []

    def read():
        try:
            connection_object = connections["default"]
            seen.append(weakref.ref(connection_object))
            statements.rows("pk", lambda v: _users(v["pk"]), {"pk": user.pk})
        finally:
            connections.close_all()

    thread = threading.Thread(target=read)
    thread.start()
    thread.join()
    del thread
    gc.collect()
    # Its statements lived on its connection object, and went with it.
    assert seen and seen[0]() is None
