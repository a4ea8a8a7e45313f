"""Reading one page of listing search results on PostgreSQL, bounded in time.

`search_page_rows(qs, start, stop)` is `list(qs[start:stop])` for a queryset
from `listings.search.listing_search`, with two additions on PostgreSQL:

1. Time limits. Newest first walks the feed index backward and stops after a
   page of matches: milliseconds when matches are common, but a search that
   matches (almost) nothing walks the whole index (a typo at 1M listings:
   6-11 s). The planner cannot tell the two apart from its estimates, so the
   page gets FIRST_PLAN_TIMEOUT_MS on the planner's choice, then is read again
   with index scans off: the bitmap plan collects the (few) matches and sorts
   them. A search still slower than SEARCH_TIMEOUT_MS is refused with Busy.

2. The RUM walk, where the optional `rum` extension is installed (migration
   0006). A text search in the default order (promoted first, then newest) is
   read from two partial RUM indexes on the search vector, one over the active
   promoted listings and one over the other active listings, each with
   `bumped_at` stored next to every entry: `ORDER BY bumped_at <=| <far
   future>` returns a word's matches newest first from inside the index, so
   only the rows shown (and those the other filters reject) are read from the
   table. The promoted index is walked first; the other one only when the
   promoted matches do not fill the page. The cost is the number of index
   entries of the words (about a microsecond each) plus the rows read: a word
   that matches a large share of all listings ("the", "a", "new") is left to
   the feed walk, which is fast for exactly those (RUM_WALK_MAX_MATCHES,
   estimated from the column's statistics). bench/FINDINGS.md, 10.

Without the extension (a managed PostgreSQL without it, SQLite) the indexes do
not exist and every page takes path 1: results are the same rows in the same
order either way (tested on PostGIS with the walk on and off).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings
from django.db import OperationalError, ProgrammingError, connection, transaction
from django.db.models import F, FloatField, Func, QuerySet

from core.errors import Busy

FIRST_PLAN_TIMEOUT_MS = 250
SEARCH_TIMEOUT_MS = 5000

# The two partial RUM indexes of migration 0006.
RUM_INDEXES = ("listing_search_rum_promoted", "listing_search_rum_rest")
# A walk reads every index entry of the query's words before the first row
# (about 1 us each here: 55,000 for "flat" ~ 40 ms, 735,000 for "the" ~ 1 s).
# Above this many estimated entries the feed walk serves the page instead.
RUM_WALK_MAX_MATCHES = 100_000
# Rows read past the page by a walk: when they are not all as new as the
# page's last row, the page holds every listing bumped at that instant and
# ties are ordered by id without another query.
TIE_MARGIN = 4
# Column statistics (most common lexemes) are re-read this often.
STATS_TTL_S = 600

# The order `listing_search` gives a text search by default.
NEWEST_ORDER = ("-is_promoted", "-bumped_at", "-pk")
# Set on a queryset's Query by `mark_newest_text` (a Query keeps its
# attributes through filter(), values(), ...): the words searched for.
_TEXT_TERMS = "listing_text_terms"


def mark_newest_text(qs: QuerySet, terms: list[str]) -> QuerySet:
    """Tag a newest-first text search so that `search_page_rows` may read its
    pages with the RUM walk."""
    setattr(qs.query, _TEXT_TERMS, tuple(terms))
    return qs


# --- Time limits ----------------------------------------------------------------


def _is_query_canceled(exc: Exception) -> bool:
    return getattr(exc.__cause__, "sqlstate", None) == "57014"


def _with_local_settings(fetch: Callable[[], list], **settings) -> list:
    """`fetch()` with `settings` SET LOCAL to each statement it runs.

    Outside a transaction (a request), each statement goes out as one message
    with the settings in front (`SET LOCAL ...; SELECT ...`): PostgreSQL runs
    a message of several statements as one implicit transaction, so the
    settings last for that statement only, at no extra round trip (BEGIN,
    SET LOCAL and COMMIT were three more per page). Inside the caller's
    transaction, `fetch()` runs in a savepoint of its own with the settings
    set, then reset: SET LOCAL outlives a savepoint."""
    # Names and values are ours, never input; DEFAULT cannot be a parameter.
    assignments = "; ".join(f"SET LOCAL {k} = {v}" for k, v in settings.items())
    if not connection.in_atomic_block and _binds_client_side():
        with connection.execute_wrapper(_Prefixed(assignments + "; ")):
            return fetch()
    nested = connection.in_atomic_block
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(assignments)
        rows = fetch()
        if nested:
            with connection.cursor() as cursor:
                cursor.execute("; ".join(f"SET LOCAL {k} = DEFAULT" for k in settings))
        return rows


def _binds_client_side() -> bool:
    """Several statements in one message need client-side binding (Django's
    default with psycopg 3; bench/FINDINGS.md: keep it)."""
    return not connection.settings_dict["OPTIONS"].get("server_side_binding")


class _Prefixed:
    """An execute wrapper that sends `prefix` in front of each statement and
    leaves the cursor on the statement's own result."""

    def __init__(self, prefix: str):
        self.prefix = prefix

    def __call__(self, execute, sql, params, many, context):
        if many:
            return execute(sql, params, many, context)
        result = execute(self.prefix + sql, params, many, context)
        cursor = context["cursor"]
        while cursor.description is None and cursor.nextset():
            pass
        return result


@dataclass(frozen=True)
class PageReader:
    """How the statements of a page are run: `run(key, make, values)` gives
    the rows of `make(values)`, where `make` builds on `base(values)`, the
    search's queryset, and `key` names what `make` adds to it (the ORM runs it
    as is; core.compiled.CompiledShapes compiles it once per key).
    `newest_text`: the words of a newest-first text search (the RUM walk)."""

    run: Callable[[tuple, Callable[[Mapping], QuerySet], Mapping], list]
    base: Callable[[Mapping], QuerySet]
    values: Mapping
    newest_text: tuple[str, ...] = ()
    # PostgreSQL: read a page's keys first (see `page_keys`), then its rows
    # with `cards(keys)`, which gives them in the keys' order.
    cards: Callable[[list[tuple]], list] | None = None

    @classmethod
    def of_queryset(cls, qs: QuerySet) -> PageReader:
        """The ORM's way, for any queryset of `listing_search`."""
        terms = getattr(getattr(qs, "query", None), _TEXT_TERMS, None)
        if terms and (tuple(qs.query.order_by) != NEWEST_ORDER or qs.query.is_sliced):
            terms = None
        return cls(
            run=lambda key, make, values: list(make(values)),
            base=lambda values: qs,
            values={},
            newest_text=tuple(terms or ()),
        )

    def rows(self, key: tuple, make: Callable[[QuerySet, Mapping], QuerySet], **extra):
        """The rows of `make(search queryset, values)`; `extra` values join
        the search's own."""
        base = self.base
        return self.run(
            key, lambda values: make(base(values), values), {**self.values, **extra}
        )


def search_page_rows(qs: QuerySet, start: int, stop: int) -> list:
    """`list(qs[start:stop])` for a listing search (see read_page)."""
    return read_page(PageReader.of_queryset(qs), start, stop)


def page_keys(qs: QuerySet) -> QuerySet:
    """(pk,), or (pk, distance_m) for a search with a point, of the search
    `qs` in its order: what a reader with `cards` reads first. One table, no
    joins or photos: planning a page's statement with them cost PostgreSQL
    more than running it (0.3 to 0.6 ms), and the cards of the keys are then
    read by primary keys, in a statement prepared once (core.prepared)."""
    if "distance_m" in qs.query.annotations:
        return qs.values_list("pk", "distance_m")
    return qs.values_list("pk")


def read_page(reader: PageReader, start: int, stop: int) -> list:
    """Rows `start:stop` of a listing search, bounded in time on PostgreSQL
    (see the module docstring). A search still slower than SEARCH_TIMEOUT_MS
    is refused with Busy (503), not left to hold a worker."""
    if connection.vendor != "postgresql":
        return reader.rows(("page", start, stop), lambda qs, v: qs[start:stop])
    rows = _bounded_page(reader, start, stop)
    # The keys' cards outside the time limits: a read by primary keys is
    # bounded by the page's size (and, prepared, takes no SET LOCAL in front).
    return reader.cards(rows) if reader.cards is not None else rows


def _bounded_page(reader: PageReader, start: int, stop: int) -> list:
    """The page's rows, or its keys for a reader with `cards`, read within
    the time limits."""
    if reader.cards is None:
        key, make = ("page", start, stop), lambda qs, v: qs[start:stop]
    else:
        key, make = ("keys", start, stop), lambda qs, v: page_keys(qs)[start:stop]

    def plain():
        return reader.rows(key, make)

    walk = _rum_walk_for(reader)
    try:
        if walk is not None:
            # Bitmap scans off: the walk must come out of the RUM index in
            # order; the planner, misjudging how many rows match, would
            # rather collect every match and sort them (the slow case).
            return _with_local_settings(
                lambda: walk(start, stop),
                statement_timeout=FIRST_PLAN_TIMEOUT_MS,
                enable_bitmapscan="off",
            )
        return _with_local_settings(plain, statement_timeout=FIRST_PLAN_TIMEOUT_MS)
    except OperationalError as exc:
        if not _is_query_canceled(exc):
            raise
    except ProgrammingError as exc:
        # The extension went away under a running server (migration 0006
        # reversed): forget the indexes and read the page the plain way.
        if walk is None or not _is_missing_rum(exc):
            raise
        _RUM_PRESENT.clear()
    try:
        return _with_local_settings(
            plain, statement_timeout=SEARCH_TIMEOUT_MS, enable_indexscan="off"
        )
    except OperationalError as exc:
        if not _is_query_canceled(exc):
            raise
        raise Busy(
            "This search took too long. Add a category, a price range or other "
            "words and try again."
        ) from None


# --- The RUM walk ---------------------------------------------------------------


class NewestFirstDistance(Func):
    """`bumped_at <=| <2100-01-01>`: RUM's distance to a point in the future,
    smaller for newer rows, so ascending is newest first, served by the RUM
    indexes (the attached `bumped_at`). RUM computes it in float seconds from
    the microsecond difference, exact to the microsecond for any time between
    1958 and 2100, so rows that differ in `bumped_at` never come out of order;
    a row without `bumped_at` comes last (never active: going live sets it)."""

    template = "%(expressions)s <=| '2100-01-01 00:00:00+00'::timestamptz"
    output_field = FloatField()

    def __init__(self):
        super().__init__(F("bumped_at"))


_RUM_PRESENT: dict[str, bool] = {}


def rum_walk_available() -> bool:
    """Whether the RUM walk is on (LISTINGS_SEARCH_RUM) and both its indexes
    exist and are valid in this database (read once per process and
    database)."""
    if not settings.LISTINGS_SEARCH_RUM:
        return False
    name = connection.settings_dict["NAME"]
    if name not in _RUM_PRESENT:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_index i "
                "JOIN pg_class c ON c.oid = i.indexrelid "
                "WHERE c.relname = ANY(%s) AND i.indisvalid "
                "AND c.relnamespace = to_regnamespace(current_schema())",
                [list(RUM_INDEXES)],
            )
            _RUM_PRESENT[name] = cursor.fetchone()[0] == len(RUM_INDEXES)
    return _RUM_PRESENT[name]


def _is_missing_rum(exc: ProgrammingError) -> bool:
    # undefined_function (the <=| operator), undefined_object
    return getattr(exc.__cause__, "sqlstate", None) in ("42883", "42704")


def _rum_walk_for(reader: PageReader) -> Callable[[int, int], list] | None:
    """The RUM walk for this search's pages, or None when the page must be
    read the plain way (not a newest-first text search, no RUM indexes, or
    words too common for a walk)."""
    terms = reader.newest_text
    if (
        not terms
        or not rum_walk_available()
        or estimated_entries(terms) > RUM_WALK_MAX_MATCHES
    ):
        return None

    def walk(start: int, stop: int) -> list:
        ids: list[int] = []
        for promoted in (True, False):
            if len(ids) >= stop:
                break
            ids += _walk_ids(reader, promoted, stop - len(ids))
        page = ids[start:stop]
        if reader.cards is not None:
            return [(pk,) for pk in page]
        # The cards (joins, photos) of these rows only, in the search's own
        # order, which is the walk's: promoted first, newest, id.
        if not page:
            return []
        return reader.rows(
            ("cards",),
            lambda qs, v: qs.filter(pk__in=v["page_ids"]),
            page_ids=tuple(page),
        )

    return walk


_EARLIEST = datetime.min.replace(tzinfo=UTC)


def _newest_key(row):
    """(pk, bumped_at) in the search's order when sorted in reverse:
    `bumped_at DESC` puts NULL first in PostgreSQL, then `pk DESC`."""
    pk, bumped_at = row
    return (bumped_at is None, bumped_at or _EARLIEST, pk)


def _walk_rows(qs: QuerySet, promoted: bool) -> QuerySet:
    """(pk, bumped_at) of the search's promoted or other listings (one of
    the two partial indexes' sets)."""
    return qs.filter(is_promoted=promoted).order_by().values_list("pk", "bumped_at")


def _walk_ids(reader: PageReader, promoted: bool, count: int) -> list[int]:
    """The pks of the first `count` of the search's promoted (or other)
    listings, newest first then id, read from the RUM index."""
    limit = count + TIE_MARGIN

    def walked(qs, values):
        rows = _walk_rows(qs, promoted)
        # The index puts rows without bumped_at last; the search's order first.
        return rows.order_by(NewestFirstDistance().asc())[:limit].union(
            rows.filter(bumped_at__isnull=True), all=True
        )

    found = dict(reader.rows(("walk", promoted, limit), walked))
    dated = [b for b in found.values() if b is not None]
    if len(dated) == limit:
        # The walk stopped inside the matches: the rows as new as its last
        # one may go on past it (the index orders ties arbitrarily).
        last = min(dated)
        if sum(b > last for b in dated) < count:
            found.update(
                reader.rows(
                    ("ties", promoted),
                    lambda qs, v: _walk_rows(qs, promoted).filter(
                        bumped_at=v["tied_at"]
                    ),
                    tied_at=last,
                )
            )
    ordered = sorted(found.items(), key=_newest_key, reverse=True)
    return [pk for pk, _ in ordered[:count]]


# --- How many index entries a walk reads ----------------------------------------


@dataclass
class _LexemeStats:
    read_at: float
    rows: float  # pg_class.reltuples of listings_listing (-1: never analyzed)
    lexemes: list[tuple[str, float]]  # most common lexemes and their frequency
    covered: float  # the share of rows holding any of them


_STATS: dict[str, _LexemeStats] = {}


def _lexeme_stats() -> _LexemeStats:
    name = connection.settings_dict["NAME"]
    stats = _STATS.get(name)
    if stats is None or time.monotonic() - stats.read_at > STATS_TTL_S:
        with connection.cursor() as cursor:
            cursor.execute(
                """
                SELECT c.reltuples, s.most_common_elems::text::text[],
                       s.most_common_elem_freqs
                  FROM pg_class c
                  LEFT JOIN pg_stats s ON s.schemaname = current_schema()
                   AND s.tablename = c.relname AND s.attname = 'search_vector'
                 WHERE c.oid = 'listings_listing'::regclass
                """
            )
            rows, lexemes, freqs = cursor.fetchone()
        pairs = list(zip(lexemes or [], freqs or [], strict=False))
        covered = 0.0
        for _, freq in pairs:
            covered += freq - covered * freq
        stats = _LexemeStats(time.monotonic(), rows, pairs, covered)
        _STATS[name] = stats
    return stats


def estimated_entries(terms) -> float:
    """About how many RUM index entries a walk for `terms` reads: for each
    word, the rows holding a lexeme it is a prefix of, estimated as PostgreSQL
    estimates `@@ 'word:*'` (the most common lexemes' frequencies, the rest
    in proportion); summed over the words, since the walk reads each word's
    entries. 0 when the table has no statistics yet."""
    stats = _lexeme_stats()
    if stats.rows <= 0 or not stats.lexemes:
        return 0.0
    total = 0.0
    for term in terms:
        matched, prefixed = 0.0, 0
        for lexeme, freq in stats.lexemes:
            if lexeme.startswith(term):
                matched += freq - matched * freq
                prefixed += 1
        share = matched + (1.0 - stats.covered) * prefixed / len(stats.lexemes)
        total += share * stats.rows
    return total
