"""Read-only `values()` querysets compiled to SQL once and run with new values.

Turning a queryset into SQL (resolving names into joins, compiling every
expression) is the ORM's largest cost in a primary-key read: a listing's API
detail spent more CPU compiling its two statements than running them and
building its answer (bench/FINDINGS.md, 11). For a read whose shape never
changes, `CompiledValues` compiles the queryset once per database connection
object, with a marker value for each parameter, and afterwards only swaps the
markers for the values: the same SQL, and the same row conversions (the
compiler's converters), as iterating the `values()` queryset would run.

    _detail = CompiledValues(
        lambda pk: Listing.objects.filter(pk=pk).values("id", "title"), "pk"
    )
    rows = _detail.rows(pk=42)   # [{"id": 42, "title": ...}]

Only integer parameters that appear exactly once in the compiled SQL can be
swapped (a primary or foreign key); compiling checks that, so a queryset whose
parameters the ORM repeats, folds away or converts (to text, say) fails at once
instead of running with a marker.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass

from django.core.exceptions import ImproperlyConfigured
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import QuerySet
from django.db.models.query import ValuesIterable

# Markers: integers no key ever takes (bigint's lower end), one per parameter.
_MARKER = -(2**62) + 7919


@dataclass(frozen=True)
class _Statement:
    sql: str
    params: tuple
    positions: dict[str, int]
    names: tuple[str, ...]
    compiler: object
    converters: dict


class CompiledValues:
    """`build(**markers)` must return a `values()` queryset whose parameters
    named in `params` are integers; `rows(**values)` runs it as list of dicts."""

    def __init__(
        self,
        build: Callable[..., QuerySet],
        *params: str,
        using: str = DEFAULT_DB_ALIAS,
    ):
        self._build = build
        self._params = params
        self._using = using
        # Per connection object (one per thread): converters read settings
        # (the time zone) from the compiler's own connection.
        self._statements: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()

    def rows(self, **values: int) -> list[dict]:
        if set(values) != set(self._params):
            raise TypeError(f"rows() takes exactly {', '.join(self._params)}")
        connection = connections[self._using]
        statement = self._statements.get(connection)
        if statement is None:
            statement = self._compile(connection)
        params = list(statement.params)
        for name, value in values.items():
            if type(value) is not int:
                raise TypeError(f"{name} must be an int, not {type(value).__name__}")
            params[statement.positions[name]] = value
        with connection.cursor() as cursor:
            cursor.execute(statement.sql, params)
            fetched = cursor.fetchall()
        if statement.converters:
            fetched = statement.compiler.apply_converters(fetched, statement.converters)
        names = statement.names
        return [dict(zip(names, row, strict=True)) for row in fetched]

    def _compile(self, connection) -> _Statement:
        markers = {name: _MARKER + i for i, name in enumerate(self._params)}
        qs = self._build(**markers)
        if not issubclass(qs._iterable_class, ValuesIterable):
            raise ImproperlyConfigured("CompiledValues needs a values() queryset.")
        query = qs.query
        compiler = query.get_compiler(connection=connection)
        sql, params = compiler.as_sql()
        positions = {}
        for name, marker in markers.items():
            found = [i for i, p in enumerate(params) if type(p) is int and p == marker]
            if len(found) != 1:
                raise ImproperlyConfigured(
                    f"CompiledValues: parameter {name!r} appears {len(found)} "
                    "times in the compiled SQL; it must appear exactly once."
                )
            positions[name] = found[0]
        statement = _Statement(
            sql=sql,
            params=tuple(params),
            positions=positions,
            names=(
                *query.extra_select,
                *query.values_select,
                *query.annotation_select,
            ),
            compiler=compiler,
            # What iterating the queryset would apply to each row (from text
            # to datetimes on SQLite, JSON decoded, ...).
            converters=compiler.get_converters(
                [column[0] for column in compiler.select[: compiler.col_count]]
            ),
        )
        with self._lock:
            self._statements[connection] = statement
        return statement
