"""Read-only `values()` querysets compiled to SQL once and run with new values.

Turning a queryset into SQL (resolving names into joins, compiling every
expression) is the ORM's largest cost in a primary-key read or a page of
search results: a listing's API detail spent more CPU compiling its two
statements than running them and building its answer (bench/FINDINGS.md, 11).
For a read whose SQL depends only on its "shape", a statement is compiled once
per database connection object and shape, with a marker value in place of each
parameter, and afterwards only the markers are swapped for the values: the
same SQL, and the same row conversions (the compiler's converters), as
iterating the queryset would run.

    _detail = CompiledValues(
        lambda pk: Listing.objects.filter(pk=pk).values("id", "title"), "pk"
    )
    rows = _detail.rows(pk=42)   # [{"id": 42, "title": ...}]

    _search = CompiledShapes()
    rows = _search.rows(shape, build, {"price_min": 100, "ids": (3, 5)})

Values are ints, floats, strings, aware or naive datetimes, or tuples of
those (a tuple's length is part of the shape). `build` must take every
decision from the shape, never from a value: a value may only be handed to the
ORM as is. Compiling checks what it can: the statement is compiled twice, with
two sets of markers, and both must give the same SQL and the same other
parameters (a value the ORM turned into SQL text, or a `now()` taken while
building, differ), and every marker must come out unchanged (a value the ORM
escaped, converted or folded away does not). A shape that fails the checks is
not compilable: `CompiledValues` refuses it at once, `CompiledShapes` runs its
queryset the ORM's way each time.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.core.exceptions import EmptyResultSet, ImproperlyConfigured
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import QuerySet
from django.db.models.query import ValuesIterable, ValuesListIterable

from core.prepared import cursor as prepared_cursor

# Markers: values no key, price, coordinate or date of ours ever takes, one
# per parameter (and a second set for the check). Integers inside a 32-bit
# column's range: the ORM folds a lookup with a value out of its field's
# range away (Django 5), which would make the shape not compilable.
_MARKER = 2_000_000_000 + 7919
_FLOAT_MARKER = -(2.0**51) + 0.5
# Characters any escaping (LIKE) or case folding would change.
_TEXT_MARKER = "\\%_Mk\x1f"
_DATETIME_MARKER = datetime(1903, 2, 3, 4, 5, 6, 700000)
_SECOND_SET = 1000


class NotCompilable(ImproperlyConfigured):
    """The queryset's SQL depends on more than its shape (see the module
    docstring)."""


def _marker(value, index: int):
    kind = type(value)
    if kind is int:
        return _MARKER + index
    if kind is float:
        return _FLOAT_MARKER + index
    if kind is str:
        return f"{_TEXT_MARKER}{index}"
    if kind is datetime:
        marker = _DATETIME_MARKER + timedelta(microseconds=index)
        return marker.replace(tzinfo=UTC) if value.tzinfo is not None else marker
    raise TypeError(
        f"A compiled statement takes ints, floats, strings and datetimes, "
        f"not {kind.__name__}; put it in the shape."
    )


def _signature(values: Mapping) -> tuple:
    """The types (and tuple lengths) of `values`: part of the cache key."""
    return tuple(
        (name, tuple(map(type, value)) if type(value) is tuple else type(value))
        for name, value in sorted(values.items())
    )


def _markers(values: Mapping, offset: int) -> tuple[dict, list]:
    """Markers for `values` and, in parameter order, (name, index in a tuple
    or None, marker)."""
    markers, slots = {}, []
    for name, value in values.items():
        if type(value) is tuple:
            items = []
            for i, item in enumerate(value):
                items.append(_marker(item, offset + len(slots)))
                slots.append((name, i, items[-1]))
            markers[name] = tuple(items)
        else:
            markers[name] = _marker(value, offset + len(slots))
            slots.append((name, None, markers[name]))
    return markers, slots


def _same(a, b) -> bool:
    return type(a) is type(b) and a == b


def _is_marker(param, marker) -> bool:
    """`param` is `marker`, or the marker wrapped by the backend in a subclass
    of its type (psycopg's Int8 for a bigint, say)."""
    if type(param) is type(marker):
        return param == marker
    return (
        isinstance(param, type(marker))
        and type(param) is not bool
        and (param == marker)
    )


@dataclass(frozen=True)
class _Statement:
    sql: str
    params: tuple
    # Per parameter position: (name, index in a tuple or None, the type the
    # backend wrapped the value in, or None).
    slots: tuple[tuple[int, str, int | None, type | None], ...]
    names: tuple[str, ...] | None  # None: rows are tuples (values_list)
    compiler: object
    converters: dict

    def run(self, connection, values: Mapping, *, prepared: bool = False) -> list:
        params = list(self.params)
        for position, name, index, wrap in self.slots:
            value = values[name] if index is None else values[name][index]
            params[position] = value if wrap is None else wrap(value)
        opened = prepared_cursor(connection) if prepared else connection.cursor()
        with opened as cursor:
            cursor.execute(self.sql, params)
            fetched = cursor.fetchall()
        if self.converters:
            fetched = self.compiler.apply_converters(fetched, self.converters)
        if self.names is None:
            return [tuple(row) for row in fetched]
        names = self.names
        return [dict(zip(names, row, strict=True)) for row in fetched]


# A shape whose statement is known to be empty (the ORM raised
# EmptyResultSet, e.g. `pk__in=()`): no query at all, as the ORM does.
_EMPTY = object()


def _compile_once(build, values, offset, connection):
    markers, slots = _markers(values, offset)
    qs = build(markers)
    iterable = qs._iterable_class
    if iterable not in (ValuesIterable, ValuesListIterable):
        raise NotCompilable(
            "A compiled statement needs a values() or values_list() queryset."
        )
    compiler = qs.query.get_compiler(connection=connection)
    try:
        sql, params = compiler.as_sql()
    except EmptyResultSet:
        return _EMPTY, slots, None, None
    return (sql, tuple(params)), slots, compiler, qs


def _compile(build, values: Mapping, connection) -> _Statement | object:
    first, slots, compiler, qs = _compile_once(build, values, 0, connection)
    second, _, _, _ = _compile_once(build, values, _SECOND_SET, connection)
    if first is _EMPTY or second is _EMPTY:
        if first is not second:
            raise NotCompilable("Whether the statement is empty depends on a value.")
        return _EMPTY
    sql, params = first
    if sql != second[0] or len(params) != len(second[1]):
        raise NotCompilable("The SQL depends on a value (the ORM inlined it).")
    seconds = {
        (name, index): marker
        for name, index, marker in _markers(values, _SECOND_SET)[1]
    }
    placed = []
    found = set()
    for position, (a, b) in enumerate(zip(params, second[1], strict=True)):
        slot = next(
            ((name, index) for name, index, m in slots if _is_marker(a, m)),
            None,
        )
        if slot is None:
            if not _same(a, b):
                raise NotCompilable(
                    "A parameter changes between compiles (a time read while "
                    "building, or a value converted): it must come from the values."
                )
            continue
        if not (type(b) is type(a) and _is_marker(b, seconds[slot])):
            raise NotCompilable(f"The value {slot[0]!r} does not stay in its place.")
        wrap = None if type(a) is type(seconds[slot]) else type(a)
        placed.append((position, *slot, wrap))
        found.add(slot)
    missing = [name for name, index, _ in slots if (name, index) not in found]
    if missing:
        raise NotCompilable(
            f"The value {missing[0]!r} is not a parameter of the SQL as given "
            "(folded away, escaped or converted)."
        )
    query = compiler.query
    names = None
    if qs._iterable_class is ValuesIterable:
        # As ValuesIterable names a row's columns.
        names = (
            tuple(query.selected)
            if query.selected
            else (
                *query.extra_select,
                *query.values_select,
                *query.annotation_select,
            )
        )
    return _Statement(
        sql=sql,
        params=params,
        slots=tuple(placed),
        names=names,
        compiler=compiler,
        # What iterating the queryset would apply to each row (from text to
        # datetimes on SQLite, JSON decoded, ...).
        converters=compiler.get_converters(
            [column[0] for column in compiler.select[: compiler.col_count]]
        ),
    )


class CompiledShapes:
    """Statements compiled once per connection object and shape (an LRU of
    `maxsize` per connection). `rows(shape, build, values)` gives what
    iterating `build(values)` gives (dicts for values(), tuples for
    values_list()); `build(values)` must decide everything from `shape`."""

    def __init__(self, *, maxsize: int = 256, using: str = DEFAULT_DB_ALIAS):
        self._maxsize = maxsize
        self._using = using

    def cache_for(self, connection) -> OrderedDict:
        """This object's statements for `connection` (a connection object,
        one per thread). Kept on the connection object, not here: a
        statement refers to its connection (its compiler and converters do),
        so a cache held here would keep every thread's connection alive."""
        caches = connection.__dict__.setdefault("_compiled_statements", {})
        return caches.setdefault(self, OrderedDict())

    def rows(
        self,
        shape: Hashable,
        build: Callable[[Mapping], QuerySet],
        values: Mapping,
        *,
        strict: bool = False,
        prepared: bool = False,
    ) -> list:
        """`strict`: a shape that cannot be compiled raises NotCompilable
        instead of running the ORM's way. `prepared`: PostgreSQL keeps the
        statement prepared on the connection (core.prepared), for a read
        whose best plan is the same for every value (by primary keys)."""
        connection = connections[self._using]
        cache = self.cache_for(connection)
        key = (shape, _signature(values))
        statement = cache.get(key)
        if statement is None:
            try:
                statement = _compile(build, values, connection)
            except NotCompilable:
                if strict:
                    raise
                statement = False
            cache[key] = statement
            if len(cache) > self._maxsize:
                cache.popitem(last=False)
        else:
            cache.move_to_end(key)
        if statement is _EMPTY:
            return []
        if statement is False:
            return list(build(values))
        return statement.run(connection, values, prepared=prepared)


class CompiledValues:
    """One statement of fixed shape whose parameters named in `params` are
    integers (keys): `rows(**values)` runs it, as a list of dicts.
    `build(**markers)` must return a `values()` queryset. `prepared`: see
    CompiledShapes.rows."""

    def __init__(
        self,
        build: Callable[..., QuerySet],
        *params: str,
        using: str = DEFAULT_DB_ALIAS,
        prepared: bool = False,
    ):
        self._build = build
        self._params = params
        self._prepared = prepared
        self._statements = CompiledShapes(maxsize=1, using=using)

    def rows(self, **values: int) -> list[dict]:
        if set(values) != set(self._params):
            raise TypeError(f"rows() takes exactly {', '.join(self._params)}")
        for name, value in values.items():
            if type(value) is not int:
                raise TypeError(f"{name} must be an int, not {type(value).__name__}")
        return self._statements.rows(
            None,
            lambda v: self._build(**v),
            values,
            strict=True,
            prepared=self._prepared,
        )
