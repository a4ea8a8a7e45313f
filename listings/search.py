"""The one search service behind the search page, the map and the listings API.

Query parameters (all optional; the page, the map and `GET /api/v1/listings/`
accept the same ones):

  q                     free text (every word must match; prefixes match too)
  category              category slug; includes its descendants
  price_min, price_max  in MAJOR units, as people type them ("15000" tenge);
                        converted to minor units (tiyn) here, once
  condition             new | used
  city                  city name (case-insensitive)
  lat, lng, radius_km   a point (two bounded floats) and a radius in km (<= 500)
  has_photos            true | false
  posted_within_days    1..365
  ordering              newest (default) | relevance | price_asc | price_desc
                        | distance (needs lat and lng)
  attr_<name>           an attribute of the category equals a value
  attr_<name>_min/_max  a number or year attribute is within a range

Free text: on PostgreSQL a stored generated `search_vector` column (title
weighted above description, the 'simple' configuration so Russian, Kazakh and
English words all work) with a GIN index, prefix matching and `ts_rank`
ranking; on SQLite (the embedded default) every word must appear in the title or
the description (`LIKE`, case-insensitive for ASCII letters only), ranked by
title matches first. See docs/listings.md. A page of results is read by
`listings.search_pages.search_page_rows` (re-exported here): time limits, and
on PostgreSQL with the `rum` extension newest-first text searches read from
RUM indexes.

Distances are on the sphere, in metres: on PostGIS the geography column
(`ST_DWithin`, `ST_Distance`, KNN `<->`); on SpatiaLite `ST_Distance` with
geodesic computation. Sorting by distance is a KNN index scan on PostGIS.
"""

from __future__ import annotations

import copy
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import timedelta
from urllib.parse import urlencode

from django.contrib.gis.db.models.functions import Distance
from django.contrib.gis.geos import Point
from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVectorField
from django.db import connection
from django.db.models import (
    BooleanField,
    Case,
    Exists,
    Expression,
    ExpressionWrapper,
    F,
    FloatField,
    Func,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Cast
from django.utils import timezone

from core.compiled import CompiledShapes
from core.errors import ValidationError
from listings.attributes import parse_attribute_filters
from listings.cities import city_normalize
from listings.models import (
    AttributeType,
    Category,
    Condition,
    Listing,
    ListingImage,
)
from listings.pricing import price_major_to_minor, price_minor_to_major_str
from listings.search_pages import PageReader, mark_newest_text, read_page
from listings.search_pages import search_page_rows as search_page_rows
from listings.selectors import (
    category_attributes_for,
    category_descendant_ids,
    listing_card_queryset,
    listing_card_values,
)

ORDERINGS = ("newest", "relevance", "price_asc", "price_desc", "distance")
# Newest first by default, with text too: every word must match, so the
# results are all on topic, and freshness is what classifieds are about. It is
# also an index-ordered scan, where ranking reads every match first ("apartment"
# in Real estate at 1M: 5-18 ms vs 250-470 ms; bench/FINDINGS.md, 4).
DEFAULT_ORDERING = "newest"
RADIUS_KM_MAX = 500.0
POSTED_WITHIN_MAX_DAYS = 365
Q_MAX_LENGTH = 200
Q_MAX_TERMS = 8
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


@dataclass
class SearchParams:
    """Validated search parameters. Prices are in minor units here."""

    q: str = ""
    category: str | None = None
    price_min: int | None = None
    price_max: int | None = None
    condition: str | None = None
    city: str | None = None
    lat: float | None = None
    lng: float | None = None
    radius_km: float | None = None
    attrs: dict = field(default_factory=dict)
    has_photos: bool = False
    posted_within_days: int | None = None
    ordering: str = DEFAULT_ORDERING
    # Resolved by parse_search_params (one query) so the search does not read
    # the category again: the Category of `category` and the pks of it and all
    # its descendants. Not part of the parameters (not compared, not in URLs).
    category_obj: Category | None = field(default=None, compare=False, repr=False)
    category_ids: list[int] | None = field(default=None, compare=False, repr=False)

    @property
    def has_point(self) -> bool:
        return self.lat is not None and self.lng is not None

    @property
    def point(self) -> Point | None:
        if not self.has_point:
            return None
        return Point(self.lng, self.lat, srid=4326)

    def to_query_dict(self) -> dict[str, str]:
        """The parameters as query-string values (prices in major units);
        `parse_search_params(p.to_query_dict())` gives `p` back."""
        data: dict[str, str] = {}
        if self.q:
            data["q"] = self.q
        if self.category:
            data["category"] = self.category
        if self.price_min is not None:
            data["price_min"] = price_minor_to_major_str(self.price_min)
        if self.price_max is not None:
            data["price_max"] = price_minor_to_major_str(self.price_max)
        for name in ("condition", "city"):
            if getattr(self, name):
                data[name] = getattr(self, name)
        for name in ("lat", "lng", "radius_km"):
            value = getattr(self, name)
            if value is not None:
                data[name] = _float_str(value)
        for name, value in sorted(self.attrs.items()):
            if isinstance(value, dict):
                for bound in ("min", "max"):
                    if value.get(bound) is not None:
                        data[f"attr_{name}_{bound}"] = str(value[bound])
            elif isinstance(value, bool):
                data[f"attr_{name}"] = "true" if value else "false"
            else:
                data[f"attr_{name}"] = str(value)
        if self.has_photos:
            data["has_photos"] = "true"
        if self.posted_within_days is not None:
            data["posted_within_days"] = str(self.posted_within_days)
        if self.ordering != DEFAULT_ORDERING:
            data["ordering"] = self.ordering
        return data

    def to_query(self, **overrides) -> str:
        """A URL query string (without "?") for these parameters; `overrides`
        replace or (with None) remove keys, e.g. `to_query(page=2)`."""
        data: dict[str, str] = self.to_query_dict()
        for key, value in overrides.items():
            if value is None:
                data.pop(key, None)
            else:
                data[key] = str(value)
        return urlencode(data)

    def narrows_results(self) -> bool:
        """True when a parameter leaves some active listings out. The order
        does not, nor a point without a radius (it only measures distances),
        nor a text without searchable words ("🚗", "!!!": `search_terms`
        finds none, so it matches everything)."""
        return bool(
            search_terms(self.q)
            or self.category
            or self.price_min is not None
            or self.price_max is not None
            or self.condition
            or self.city
            or self.radius_km is not None
            or self.attrs
            or self.has_photos
            or self.posted_within_days is not None
        )

    def as_dict(self) -> dict:
        return {
            f.name: copy.deepcopy(getattr(self, f.name))
            for f in fields(self)
            if f.name not in _RESOLVED_FIELDS
        }


_RESOLVED_FIELDS = ("category_obj", "category_ids")


def _float_str(value: float) -> str:
    text = f"{value:.6f}".rstrip("0").rstrip(".")
    return text or "0"


def _get(data: Mapping[str, str], key: str) -> str:
    value = data.get(key)
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        value = value[-1] if value else ""
    return str(value).strip()


def _parse_float(data, key, low, high, label) -> float | None:
    raw = _get(data, key)
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        raise ValidationError(f"{label} must be a number.", field=key) from None
    if not math.isfinite(value) or not low <= value <= high:
        raise ValidationError(
            f"{label} must be between {low:g} and {high:g}.", field=key
        )
    return value


def _parse_bool(data, key) -> bool:
    raw = _get(data, key).lower()
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise ValidationError("Answer true or false.", field=key)


_PARAMETERS = frozenset(
    {
        "q",
        "category",
        "price_min",
        "price_max",
        "condition",
        "city",
        "lat",
        "lng",
        "radius_km",
        "has_photos",
        "posted_within_days",
        "ordering",
    }
)


def _refuse_nul(data: Mapping[str, str]) -> None:
    """PostgreSQL refuses NUL in text: a search parameter carrying one
    (`?q=%00`) is a 400, not a database error."""
    for key in data:
        if key not in _PARAMETERS and not str(key).startswith("attr_"):
            continue
        values = data.getlist(key) if hasattr(data, "getlist") else [data[key]]
        for value in values:
            if isinstance(value, list | tuple):
                value = " ".join(map(str, value))
            if "\x00" in str(value):
                raise ValidationError(
                    "The search contains a character that is not allowed "
                    "(NUL); remove it.",
                    field=str(key),
                )


def parse_search_params(data: Mapping[str, str]) -> SearchParams:
    """Validate query parameters (see the module docstring) into SearchParams.

    Raises core.errors.ValidationError naming the offending parameter.
    Unknown parameters (page, page_size, ...) are ignored.
    """
    _refuse_nul(data)
    params = SearchParams()
    q = " ".join(_get(data, "q").split())
    if len(q) > Q_MAX_LENGTH:
        raise ValidationError(
            f"Search text is limited to {Q_MAX_LENGTH} characters.", field="q"
        )
    params.q = q

    category: Category | None = None
    slug = _get(data, "category")
    if slug:
        category = _category_with_descendant_ids(slug)
        if category is None:
            raise ValidationError("Unknown category.", field="category")
        params.category = slug
        params.category_obj = category
        params.category_ids = category.descendant_ids

    for key in ("price_min", "price_max"):
        raw = _get(data, key)
        if raw:
            setattr(params, key, price_major_to_minor(raw, field=key))
    if (
        params.price_min is not None
        and params.price_max is not None
        and params.price_min > params.price_max
    ):
        raise ValidationError(
            "The minimum price is above the maximum.", field="price_min"
        )

    condition = _get(data, "condition")
    if condition:
        if condition not in Condition.values:
            raise ValidationError("Condition is new or used.", field="condition")
        params.condition = condition

    city = _get(data, "city")
    if city:
        if len(city) > 80:
            raise ValidationError("Unknown city.", field="city")
        params.city = city_normalize(city)

    params.lat = _parse_float(data, "lat", -90.0, 90.0, "Latitude")
    params.lng = _parse_float(data, "lng", -180.0, 180.0, "Longitude")
    if (params.lat is None) != (params.lng is None):
        missing = "lng" if params.lng is None else "lat"
        raise ValidationError("Give both lat and lng.", field=missing)
    params.radius_km = _parse_float(data, "radius_km", 0.0, RADIUS_KM_MAX, "Radius")
    if params.radius_km is not None:
        if params.radius_km <= 0:
            raise ValidationError("Radius must be above 0.", field="radius_km")
        if not params.has_point:
            raise ValidationError(
                "A radius needs a point: give lat and lng.", field="radius_km"
            )

    params.attrs = parse_attribute_filters(category, data)
    params.has_photos = _parse_bool(data, "has_photos")

    within = _get(data, "posted_within_days")
    if within:
        try:
            days = int(within)
        except ValueError:
            raise ValidationError(
                "Posted within: a number of days.", field="posted_within_days"
            ) from None
        if not 1 <= days <= POSTED_WITHIN_MAX_DAYS:
            raise ValidationError(
                f"Posted within: 1 to {POSTED_WITHIN_MAX_DAYS} days.",
                field="posted_within_days",
            )
        params.posted_within_days = days

    ordering = _get(data, "ordering") or DEFAULT_ORDERING
    if ordering not in ORDERINGS:
        raise ValidationError(
            f"Ordering is one of: {', '.join(ORDERINGS)}.", field="ordering"
        )
    if ordering == "distance" and not params.has_point:
        raise ValidationError(
            "Sorting by distance needs a point: give lat and lng.", field="ordering"
        )
    params.ordering = ordering
    return params


_CATEGORY_FIELDS = tuple(f.attname for f in Category._meta.concrete_fields)
_CATEGORY_PK_AT = _CATEGORY_FIELDS.index(Category._meta.pk.attname)
_CATEGORY_SLUG_AT = _CATEGORY_FIELDS.index("slug")
_CATEGORY_ACTIVE_AT = _CATEGORY_FIELDS.index("is_active")


def _category_and_descendants(values: Mapping) -> QuerySet:
    root_path = (
        Category.objects.filter(slug=values["slug"], is_active=True)
        .order_by()
        .values("path")
    )
    return (
        Category.objects.alias(_root_path=Subquery(root_path[:1]))
        .filter(path__startswith=F("_root_path"))
        .order_by()
        .values_list(*_CATEGORY_FIELDS)
    )


_CATEGORY_STATEMENT = CompiledShapes(maxsize=1)


def _category_with_descendant_ids(slug: str) -> Category | None:
    """The active category `slug` with `descendant_ids` set (its pk and those
    of all its descendants, active or not, in pk order), in one query.

    Without ORDER BYs (the slug is unique; the ids are sorted here), with the
    root's path as an alias, not a selected column, and compiled once
    (core.compiled): compiling it cost more CPU than running it."""
    rows = _CATEGORY_STATEMENT.rows(
        None, _category_and_descendants, {"slug": slug}, strict=True
    )
    root = next(
        (r for r in rows if r[_CATEGORY_SLUG_AT] == slug and r[_CATEGORY_ACTIVE_AT]),
        None,
    )
    if root is None:
        return None
    category = Category.from_db(connection.alias, _CATEGORY_FIELDS, root)
    category.descendant_ids = sorted(r[_CATEGORY_PK_AT] for r in rows)
    return category


# --- Free text ------------------------------------------------------------------


class _SearchVectorColumn(Expression):
    """The `search_vector` column, which exists on PostgreSQL only: a stored
    generated tsvector (migration 0003) that the model does not declare, so
    SQLite migrations stay plain."""

    output_field = SearchVectorField()

    def as_sql(self, compiler, connection):
        # The query's own alias of the listings table ("U0" inside a subquery
        # such as the nearest-first window), not the outer table's name.
        table = compiler.quote_name_unless_alias(compiler.query.base_table)
        return f"{table}.{connection.ops.quote_name('search_vector')}", []


def search_terms(q: str) -> list[str]:
    """The words of a free-text query (letters and digits only), at most 8."""
    return [t.lower() for t in re.findall(r"\w+", q, flags=re.UNICODE)][:Q_MAX_TERMS]


def ts_query_text(terms: list[str]) -> str:
    """Every word must match, as a prefix ("phon" finds "phones"): the text of
    a raw tsquery."""
    return " & ".join(f"{t}:*" for t in terms)


def _apply_text(qs: QuerySet, values: Mapping) -> QuerySet:
    """The words of `values`: `tsquery` (ts_query_text) on PostgreSQL, `terms`
    (one LIKE each) elsewhere."""
    if "tsquery" in values:
        query = SearchQuery(values["tsquery"], search_type="raw", config="simple")
        return (
            qs.alias(_sv=_SearchVectorColumn())
            .filter(_sv=query)
            .annotate(rank=SearchRank(_SearchVectorColumn(), query))
        )
    rank = Value(0.0, output_field=FloatField())
    for term in values["terms"]:
        qs = qs.filter(Q(title__icontains=term) | Q(description__icontains=term))
        rank = rank + Case(
            When(title__icontains=term, then=Value(1.0)),
            default=Value(0.25),
            output_field=FloatField(),
        )
    return qs.annotate(rank=rank)


# --- Attributes -----------------------------------------------------------------


def _apply_attrs(qs: QuerySet, category: Category, attrs: dict) -> QuerySet:
    declared = {a.name: a for a in category_attributes_for(category)}
    for name, value in attrs.items():
        attribute = declared[name]
        key = f"attributes__{name}"
        if isinstance(value, dict):
            # A number compared as a number: cast the JSON value.
            alias = f"_attr_{name}"
            qs = qs.alias(**{alias: Cast(F(key), IntegerField())})
            if value.get("min") is not None:
                qs = qs.filter(**{f"{alias}__gte": value["min"]})
            if value.get("max") is not None:
                qs = qs.filter(**{f"{alias}__lte": value["max"]})
        elif attribute.type == AttributeType.TEXT:
            qs = qs.filter(**{f"{key}__icontains": value})
        elif connection.vendor == "postgresql":
            # jsonb containment: served by the GIN index on attributes.
            qs = qs.filter(attributes__contains={name: value})
        else:
            qs = qs.filter(**{key: value})
    return qs


# --- The search -----------------------------------------------------------------


class _PointGeography(RawSQL):
    """The point as a geography (SRID 4326): coordinates are parameters."""

    def __init__(self, point: Point):
        super().__init__(
            "ST_SetSRID(ST_MakePoint(%s, %s), 4326)::geography",
            (point.x, point.y),
            output_field=FloatField(),
        )


class KnnDistance(Func):
    """`location <-> point` on the geography column: metres on the sphere, and
    the order the GiST index is scanned in (KNN). Built from F("location"), so
    it follows table aliases and may be used inside a subquery."""

    arg_joiner = " <-> "
    template = "%(expressions)s"
    output_field = FloatField()

    def __init__(self, point: Point):
        super().__init__(F("location"), _PointGeography(point))


class DWithinSphere(Func):
    """`ST_DWithin(location, point, metres, false)`: within the radius on the
    sphere (as KnnDistance measures), served by the GiST index."""

    function = "ST_DWithin"
    output_field = BooleanField()

    def __init__(self, point: Point, radius_m: float):
        super().__init__(
            F("location"), _PointGeography(point), Value(radius_m), Value(False)
        )


def _apply_point(qs: QuerySet, values: Mapping, *, is_postgres: bool):
    """Annotate `distance_m` (metres on the sphere, None without a location)
    to the point of `values` (`lng`, `lat`) and apply its radius (`radius_m`)
    if it has one.

    PostGIS: the distance is the geography KNN operator `<->` (sphere), the
    same expression nearest-first scans the GiST index by, so shown distances
    and order agree; the radius is `ST_DWithin(..., false)` (sphere, GiST).
    SpatiaLite: `ST_Distance(a, b, 0)` (great circle); it returns 0 for a
    missing location, hence the CASE.
    """
    point = Point(values["lng"], values["lat"], srid=4326)
    radius_m = values.get("radius_m")
    if is_postgres:
        qs = qs.annotate(distance_m=KnnDistance(point))
        if radius_m is not None:
            qs = qs.filter(DWithinSphere(point, radius_m))
        return qs
    qs = qs.annotate(
        distance_m=Case(
            When(
                location__isnull=False,
                then=ExpressionWrapper(
                    Distance("location", point, spheroid=False),
                    output_field=FloatField(),
                ),
            ),
            default=Value(None),
            output_field=FloatField(),
        )
    )
    if radius_m is not None:
        qs = qs.filter(distance_m__lte=radius_m)
    return qs


# How far nearest-first reaches on PostGIS when the caller does not say: the
# nearest NEARBY_WINDOW matches (10 pages of 20), then the radius.
NEARBY_WINDOW = 200


def _nearest_window(qs: QuerySet, values: Mapping, *, reach: int) -> QuerySet:
    """Nearest first on PostGIS: a pure KNN scan `ORDER BY location <-> point
    LIMIT reach` over the filtered listings, then the radius checked on those
    rows only. As a filter of the KNN scan, `<-> <= r` makes the scan read the
    whole GiST index wherever fewer than a page of listings are in range (13 s
    at 1M rows); `ST_DWithin` + `ORDER BY <->` gets planned as a sort of
    everything in range (bench/FINDINGS.md, 3). No tie-breaker: no index gives
    that order."""
    point = Point(values["lng"], values["lat"], srid=4326)
    window = qs.alias(_knn=KnnDistance(point)).order_by("_knn").values("pk")
    page = listing_card_queryset().filter(pk__in=window[:reach])
    if "tsquery" in values:
        page = _apply_text(page, values)
    page = page.annotate(distance_m=KnnDistance(point))
    if "radius_m" in values:
        page = page.filter(distance_m__lte=values["radius_m"])
    return page.order_by("distance_m")


def _nearest_keys(qs: QuerySet, values: Mapping) -> QuerySet:
    """Nearest first on PostGIS as one KNN scan of the listings table:
    `ORDER BY location <-> point` with `distance_m` (that expression), no
    radius. Read a page of it (`LIMIT stop OFFSET start`), then cut it where
    `distance_m` passes the radius: the rows within the radius are a prefix
    of this order, so that is the page of the rows within the radius, read
    with the scan `_nearest_window` makes, without its join of the window
    back to the table (whose planning cost more than the scan: 1.1 against
    0.6 ms per statement at 1M listings)."""
    point = Point(values["lng"], values["lat"], srid=4326)
    return qs.annotate(distance_m=KnnDistance(point)).order_by("distance_m")


@dataclass(frozen=True)
class _Shape:
    """What decides the SQL of a search: which filters it has and its order,
    not their values. `reach` is the nearest-first window (PostGIS)."""

    empty: bool = False
    category: bool = False
    text: bool = False
    price_min: bool = False
    price_max: bool = False
    condition: bool = False
    city: bool = False
    attrs: bool = False
    has_photos: bool = False
    posted_within: bool = False
    point: bool = False
    ordering: str = DEFAULT_ORDERING
    reach: int | None = None
    postgres: bool = False


@dataclass(frozen=True)
class SearchPlan:
    """A search split into its shape and its values (the statement's
    parameters, as the ORM receives them): `queryset()` is what
    `listing_search` returns. The API reads a page of a plan from statements
    compiled once per shape (`search_card_rows`, core.compiled). A plan with
    attribute filters is not compiled (its values are JSON)."""

    shape: _Shape
    values: dict
    # Attribute filters (parse_attribute_filters) and the category declaring
    # them: only with `shape.attrs`.
    attrs: dict = field(default_factory=dict)
    category: Category | None = None
    # The words of a newest-first text search on PostgreSQL: its pages may
    # be read from the RUM indexes (search_pages).
    newest_text: tuple[str, ...] = ()

    @property
    def compilable(self) -> bool:
        return not self.shape.attrs and not self.shape.empty

    def queryset(self, values: Mapping | None = None) -> QuerySet[Listing]:
        """The listings of this search, with `values` (markers, when a
        statement is compiled) instead of the plan's own."""
        return _search_queryset(self, self.values if values is None else values)

    def keys_queryset(self, values: Mapping | None = None) -> QuerySet[Listing]:
        """The listings of this search for reading a page's keys
        (search_pages.page_keys): as `queryset`, except that nearest first on
        PostGIS is the plain KNN order, without the window and the radius:
        the caller cuts the keys at the radius (`_cards_of_keys`)."""
        values = self.values if values is None else values
        return _search_queryset(self, values, keys=True)

    @property
    def keys_values(self) -> Mapping:
        """The values of `keys_queryset`: nearest first leaves the radius out
        of its statement (a value that is not a parameter would not compile)."""
        if self.shape.reach is None:
            return self.values
        return {k: v for k, v in self.values.items() if k != "radius_m"}

    @property
    def keys_radius_m(self) -> float | None:
        """Where the keys of `keys_queryset` are cut: the radius nearest first
        leaves out of its statement; None when the statement applies it."""
        return self.values.get("radius_m") if self.shape.reach is not None else None


def search_plan(params: SearchParams, *, reach: int | None = None) -> SearchPlan:
    """The plan of a search for `params` (see listing_search)."""
    is_postgres = connection.vendor == "postgresql"
    values: dict = {}
    shape: dict = {"ordering": params.ordering, "postgres": is_postgres}
    category = None
    if params.category:
        category, ids = params.category_obj, params.category_ids
        if category is None or ids is None:
            # Built by hand, not by parse_search_params: resolve the slug here.
            category = Category.objects.filter(slug=params.category).first()
            if category is None:
                return SearchPlan(_Shape(empty=True), {})
            ids = category_descendant_ids(category)
        shape["category"] = True
        values["category_ids"] = tuple(ids)
    terms = search_terms(params.q)
    if terms:
        shape["text"] = True
        if is_postgres:
            values["tsquery"] = ts_query_text(terms)
        else:
            values["terms"] = tuple(terms)
    for name in ("price_min", "price_max", "condition", "city"):
        value = getattr(params, name)
        if value is not None and value != "":
            shape[name] = True
            values[name] = value
    attrs = params.attrs if params.attrs and category is not None else {}
    shape["attrs"] = bool(attrs)
    shape["has_photos"] = params.has_photos
    if params.posted_within_days:
        shape["posted_within"] = True
        values["published_since"] = timezone.now() - timedelta(
            days=params.posted_within_days
        )
    if params.has_point:
        shape["point"] = True
        values["lat"], values["lng"] = float(params.lat), float(params.lng)
        if params.radius_km is not None:
            values["radius_m"] = float(params.radius_km) * 1000
        if is_postgres and params.ordering == "distance":
            shape["reach"] = reach or NEARBY_WINDOW
    newest_text = ()
    if terms and is_postgres and params.ordering == "newest":
        newest_text = tuple(terms)
    return SearchPlan(
        _Shape(**shape),
        values,
        attrs=attrs,
        category=category if attrs else None,
        newest_text=newest_text,
    )


def _search_queryset(
    plan: SearchPlan, values: Mapping, *, keys: bool = False
) -> QuerySet[Listing]:
    """listing_search's queryset for `plan`, every parameter from `values`
    and every decision from the plan's shape (core.compiled). `keys`: see
    SearchPlan.keys_queryset."""
    shape = plan.shape
    qs = listing_card_queryset().active()
    if shape.empty:
        return qs.none()
    if shape.category:
        # A list, not a subquery: the planner estimates `category_id = ANY(...)`
        # and combines it with the text and price indexes (FINDINGS.md, 4).
        qs = qs.filter(category_id__in=values["category_ids"])
    if shape.text:
        qs = _apply_text(qs, values)
    if shape.price_min:
        qs = qs.filter(price__gte=values["price_min"])
    if shape.price_max:
        qs = qs.filter(price__lte=values["price_max"])
    if shape.condition:
        qs = qs.filter(condition=values["condition"])
    if shape.city:
        qs = qs.filter(city__iexact=values["city"])
    if shape.attrs:
        qs = _apply_attrs(qs, plan.category, plan.attrs)
    if shape.has_photos:
        qs = qs.filter(Exists(ListingImage.objects.filter(listing=OuterRef("pk"))))
    if shape.posted_within:
        qs = qs.filter(published_at__gte=values["published_since"])

    if shape.reach is not None:
        # Strictly nearest first (no promoted block), as far as `reach`.
        if keys:
            return _nearest_keys(qs, values)
        return _nearest_window(qs, values, reach=shape.reach)
    if shape.point:
        qs = _apply_point(qs, values, is_postgres=shape.postgres)

    newest = ("-bumped_at", "-pk")
    ordering = shape.ordering
    if ordering == "distance":
        # Strictly nearest first (no promoted block); PostGIS returned above.
        return qs.order_by(F("distance_m").asc(nulls_last=True), "pk")
    if ordering == "newest" or (ordering == "relevance" and not shape.text):
        if plan.newest_text:
            # Its pages may be read from the RUM indexes (search_pages).
            qs = mark_newest_text(qs, plan.newest_text)
        order = newest
    elif ordering == "relevance":
        order = ("-rank", *newest)
    elif ordering == "price_asc":
        order = ("price", "-pk")
    else:
        order = ("-price", "-pk")
    return qs.order_by("-is_promoted", *order)


def listing_search(
    params: SearchParams, *, user=None, reach: int | None = None
) -> QuerySet[Listing]:
    """Active listings matching `params`, promoted ones first, then in the
    requested order (the stored `is_promoted` flag, kept by the promotion
    services, orders them). Annotated with `rank` (when searching text) and
    `distance_m` (metres on the sphere, when a point is given). Owner, category
    and photos are joined or prefetched: a page of results costs a fixed number
    of queries.

    `reach`: how many results the caller will look at (the end of the page
    it shows, plus one to know whether a next page exists); nearest-first on
    PostGIS scans only that far (default NEARBY_WINDOW).

    `user` is accepted for per-user tweaks (none yet: everyone sees the same
    results).
    """
    return search_plan(params, reach=reach).queryset()


# The API's search statements, per connection and shape (search_card_rows).
_CARD_STATEMENTS = CompiledShapes(maxsize=512)
# The cards of a page's keys, one statement per number of keys, prepared.
_CARDS_BY_PK = CompiledShapes(maxsize=128)


def _cards_by_pk(values: Mapping) -> QuerySet:
    # No ORDER BY: the cards come in the keys' order (_cards_of_keys).
    qs = listing_card_queryset().filter(pk__in=values["pks"]).order_by()
    if "lat" in values:
        point = Point(values["lng"], values["lat"], srid=4326)
        qs = qs.annotate(distance_m=KnnDistance(point))
    return listing_card_values(qs)


def _cards_of_keys(keys: list[tuple], plan: SearchPlan) -> list[dict]:
    """Card rows of a page's keys (from search_pages.page_keys) in their
    order. Keys with a distance ((pk, distance_m): a search with a point)
    give the cards their `distance_m`, and nearest first's are cut at the
    radius (`SearchPlan.keys_radius_m`); otherwise (the RUM walk's keys) the
    cards statement computes it, by the expression the search ordered by.
    By primary keys, whatever the search: a statement prepared once per
    number of keys serves every search's pages."""
    radius = plan.keys_radius_m
    if radius is not None:
        keys = [key for key in keys if key[1] is not None and key[1] <= radius]
    if not keys:
        return []
    values = {"pks": tuple(key[0] for key in keys)}
    with_distance = plan.shape.point and len(keys[0]) == 1
    if with_distance:
        values.update(lat=plan.values["lat"], lng=plan.values["lng"])
    rows = _CARDS_BY_PK.rows(
        (len(keys), with_distance), _cards_by_pk, values, prepared=True
    )
    by_pk = {row["id"]: row for row in rows}
    cards = []
    for pk, *distance in keys:
        row = by_pk.get(pk)
        if row is None:  # deleted between the two reads
            continue
        if distance:
            row["distance_m"] = distance[0]
        cards.append(row)
    return cards


def search_card_rows(
    search: QuerySet | SearchPlan, start: int, stop: int
) -> list[dict]:
    """Rows `start:stop` of a listing search as card rows
    (`listing_card_values`) instead of model instances, read as
    `search_page_rows` reads them. The statements of a plan are compiled once
    per shape (core.compiled): building and compiling a search's querysets
    cost more CPU than running them (bench/FINDINGS.md, 12)."""
    if isinstance(search, SearchPlan) and search.compilable:
        plan = search

        def run(key, make, values):
            return _CARD_STATEMENTS.rows((plan.shape, *key), make, values)

        if connection.vendor == "postgresql":
            # The page's keys from the search's own table (no joins: planning
            # them cost more than running the statement), then their cards.
            how = {
                "base": plan.keys_queryset,
                "values": plan.keys_values,
                "cards": lambda keys: _cards_of_keys(keys, plan),
            }
        else:
            how = {
                "base": lambda values: listing_card_values(plan.queryset(values)),
                "values": plan.values,
            }
        reader = PageReader(run=run, newest_text=plan.newest_text, **how)
        return read_page(reader, start, stop)
    if isinstance(search, SearchPlan):
        search = search.queryset()
    return read_page(PageReader.of_queryset(listing_card_values(search)), start, stop)
