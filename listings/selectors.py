"""Reads of the listings app: categories, listings, favourites, saved searches.

Search has its own module (`listings.search`); everything here returns querysets
or small values with the related rows a page needs already joined or
prefetched, so no query grows with the number of rows shown.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib.postgres.expressions import ArraySubquery
from django.core.cache import cache
from django.db import connection
from django.db.models import (
    Count,
    F,
    FloatField,
    Func,
    IntegerField,
    OuterRef,
    Prefetch,
    QuerySet,
    Subquery,
)
from django.db.models.functions import JSONObject
from django.utils import timezone

from core.compiled import CompiledValues
from core.errors import NotFound, PermissionDenied
from listings.models import (
    Category,
    CategoryAttribute,
    Favourite,
    Listing,
    ListingImage,
    ListingStatus,
    SavedSearch,
)

CATEGORY_TREE_CACHE_KEY = "listings:category-tree:v1"
CATEGORY_TREE_TIMEOUT = 300  # listing counts may lag this many seconds
PUBLIC_STATUSES = (ListingStatus.ACTIVE, ListingStatus.SOLD)


# --- Categories ---------------------------------------------------------------


@dataclass
class CategoryNode:
    """A category in the tree, with its active children and listing count
    (its own active listings plus those of all its descendants)."""

    id: int
    name: str
    slug: str
    icon: str
    order: int
    path: str
    parent_id: int | None
    depth: int
    listing_count: int = 0
    children: list[CategoryNode] = field(default_factory=list)

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("listings:category", kwargs={"slug": self.slug})


def _category_tree_build() -> list[CategoryNode]:
    categories = list(
        Category.objects.filter(is_active=True).order_by("order", "name", "pk")
    )
    own_counts = dict(
        Listing.objects.active()
        .values_list("category_id")
        .annotate(n=Count("pk"))
        .values_list("category_id", "n")
    )
    nodes = {
        c.pk: CategoryNode(
            id=c.pk,
            name=c.name,
            slug=c.slug,
            icon=c.icon,
            order=c.order,
            path=c.path,
            parent_id=c.parent_id,
            depth=max(c.path.count("/") - 2, 0),
        )
        for c in categories
    }
    roots: list[CategoryNode] = []
    for category in categories:
        node = nodes[category.pk]
        # Every active node's count reaches each of its active ancestors.
        count = own_counts.get(category.pk, 0)
        for ancestor_id in _path_ids(category.path):
            if ancestor_id in nodes:
                nodes[ancestor_id].listing_count += count
        if category.parent_id is None:
            roots.append(node)
        elif category.parent_id in nodes:
            nodes[category.parent_id].children.append(node)
        # A child of an inactive parent is hidden with its parent.
    return roots


def category_tree() -> list[CategoryNode]:
    """Active categories as nested nodes with listing counts (cached)."""
    return cache.get_or_set(
        CATEGORY_TREE_CACHE_KEY, _category_tree_build, CATEGORY_TREE_TIMEOUT
    )


def category_tree_invalidate() -> None:
    cache.delete(CATEGORY_TREE_CACHE_KEY)


def category_tree_flat() -> list[CategoryNode]:
    """The tree in display order, depth-first (for select boxes)."""
    flat: list[CategoryNode] = []

    def walk(nodes):
        for node in nodes:
            flat.append(node)
            walk(node.children)

    walk(category_tree())
    return flat


def _path_ids(path: str) -> list[int]:
    return [int(part) for part in path.strip("/").split("/") if part]


def category_get(*, slug: str) -> Category:
    """An active category by slug, or NotFound."""
    category = Category.objects.filter(slug=slug, is_active=True).first()
    if category is None:
        raise NotFound("No such category.")
    return category


def category_ancestors(category: Category) -> list[Category]:
    """The category's ancestors from the root down (without itself)."""
    ids = _path_ids(category.path)[:-1]
    by_pk = Category.objects.in_bulk(ids)
    return [by_pk[pk] for pk in ids if pk in by_pk]


def category_descendant_ids(category: Category) -> list[int]:
    """Primary keys of the category and all its descendants (active or not)."""
    return list(
        Category.objects.filter(path__startswith=category.path).values_list(
            "pk", flat=True
        )
    )


def category_is_leaf(category: Category) -> bool:
    return not Category.objects.filter(parent=category, is_active=True).exists()


def category_attributes_for(category: Category) -> list[CategoryAttribute]:
    """The attribute declarations a category's listings fill in: its own and
    those inherited from its ancestors (a closer declaration of the same name
    wins), ordered root first, then by `order`."""
    ids = _path_ids(category.path) or [category.pk]
    depth = {pk: i for i, pk in enumerate(ids)}
    declared: dict[str, CategoryAttribute] = {}
    rows = sorted(
        CategoryAttribute.objects.filter(category_id__in=ids),
        key=lambda a: (depth.get(a.category_id, 0), a.order, a.pk),
    )
    for attribute in rows:
        declared.pop(attribute.name, None)
        declared[attribute.name] = attribute
    return list(declared.values())


def category_list_with_attributes() -> QuerySet[Category]:
    """Active categories with their own attribute declarations prefetched."""
    return (
        Category.objects.filter(is_active=True)
        .order_by("path")
        .prefetch_related("attributes")
    )


# --- Listings -----------------------------------------------------------------


def _images_prefetch() -> Prefetch:
    return Prefetch("images", queryset=ListingImage.objects.order_by("position", "pk"))


def listing_card_queryset() -> QuerySet[Listing]:
    """Listings with what a card shows: owner, category, photos (prefetched)."""
    return Listing.objects.select_related("owner", "category").prefetch_related(
        _images_prefetch()
    )


# What a listing card shows (listings.api.serializers.ListingCardSerializer),
# as `values()` names: its own columns, its category's and its seller's. The
# point comes as `lat` and `lng` and the cover as `cover_thumbnail`
# (listing_card_values).
LISTING_CARD_VALUES = (
    "id",
    "title",
    "price",
    "currency",
    "is_negotiable",
    "condition",
    "city",
    "status",
    "is_promoted",
    "published_at",
    "bumped_at",
    "category_id",
    "category__name",
    "category__slug",
    "category__icon",
    "owner_id",
    "owner__display_name",
    "owner__city",
    "owner__is_verified",
    "owner__date_joined",
)


class _Ordinate(Func):
    """ST_X or ST_Y of the listing's point (NULL without one): the float the
    point's `.x` / `.y` gives, without building a GEOS geometry per row."""

    output_field = FloatField()

    def __init__(self, axis: str):
        super().__init__(F("location"), function=f"ST_{axis}")

    def as_postgresql(self, compiler, connection, **extra_context):
        # ST_X/ST_Y take a geometry; the column is a geography.
        return self.as_sql(
            compiler,
            connection,
            template="%(function)s(%(expressions)s::geometry)",
            **extra_context,
        )


def _cover_thumbnail() -> Subquery:
    """The thumbnail of a listing's first photo, as `Listing.cover` picks it."""
    photos = ListingImage.objects.filter(listing=OuterRef("pk"))
    return Subquery(
        photos.order_by(*ListingImage._meta.ordering).values("thumbnail")[:1]
    )


def listing_card_values(qs: QuerySet[Listing]) -> QuerySet:
    """Listings of `qs` (same filters and order) as card rows: plain dicts of
    LISTING_CARD_VALUES, `lat`, `lng`, `cover_thumbnail` (the stored name of
    the first photo's thumbnail, or None), and `distance_m` when `qs`
    annotates it.

    For the API's lists: building model instances for a page of 20 cards
    (listing, seller and category, every photo through a prefetch, a GEOS
    point each) cost as much CPU as all the rest of the request; these rows
    are read in one statement with only the card's columns (not the
    description, attributes or the seller's profile), as bench/handsql.py
    reads them."""
    names = list(LISTING_CARD_VALUES)
    if "distance_m" in qs.query.annotation_select:
        names.append("distance_m")
    return (
        qs.prefetch_related(None)
        .annotate(
            lat=_Ordinate("Y"), lng=_Ordinate("X"), cover_thumbnail=_cover_thumbnail()
        )
        .values(*names, "lat", "lng", "cover_thumbnail")
    )


def access_listing(user, pk, *, for_update: bool = False) -> Listing:
    """The listing `pk` if `user` may see it: owners and staff any status,
    everyone else only active or sold listings. Otherwise NotFound."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise NotFound("No such listing.") from None
    qs = (
        Listing.objects.select_for_update(of=("self",))
        if for_update
        else listing_card_queryset()
    )
    try:
        # get(), not first(): no ORDER BY to compile for a primary key.
        listing = qs.get(pk=pk)
    except Listing.DoesNotExist:
        raise NotFound("No such listing.") from None
    known = user is not None and user.is_authenticated
    is_owner = known and listing.owner_id == user.pk
    is_staff = known and user.is_staff
    if is_owner or is_staff or listing.status in PUBLIC_STATUSES:
        return listing
    raise NotFound("No such listing.")


# What the API's detail shows beyond the card (ListingDetailSerializer), and
# what its owner sees (`owner_stats`).
LISTING_DETAIL_EXTRA_VALUES = (
    "description",
    "attributes",
    "view_count",
    "created_at",
    "updated_at",
    "expires_at",
    "favourite_count",
    "rejection_reason",
    "featured_until",
    "top_until",
)
LISTING_DETAIL_VALUES = (*LISTING_CARD_VALUES, *LISTING_DETAIL_EXTRA_VALUES)
LISTING_IMAGE_VALUES = ("id", "position", "image", "thumbnail", "width", "height")


def _detail_values(pk) -> QuerySet:
    return (
        Listing.objects.filter(pk=pk)
        .annotate(lat=_Ordinate("Y"), lng=_Ordinate("X"))
        .values(*LISTING_DETAIL_VALUES, "lat", "lng")
    )


def _images_values(pk) -> QuerySet:
    """The photos of the listing `pk` (a value or an OuterRef)."""
    return (
        ListingImage.objects.filter(listing_id=pk)
        .order_by(*ListingImage._meta.ordering)
        .values(*LISTING_IMAGE_VALUES)
    )


# The detail's statements, compiled once (core.compiled): compiling them cost
# more CPU than running them (bench/FINDINGS.md, 11). On PostgreSQL the photos
# come in the listing's row, as an array of JSON objects: one round trip.
# Prepared on PostgreSQL (core.prepared): by primary key, planning was most of
# the database's time. (The first two serve SQLite only.)
_detail_statement = CompiledValues(_detail_values, "pk")
_images_statement = CompiledValues(_images_values, "pk")
_detail_with_images_statement = CompiledValues(
    lambda pk: _detail_values(pk).annotate(
        images=ArraySubquery(
            _images_values(OuterRef("pk")).values(
                json=JSONObject(**{name: name for name in LISTING_IMAGE_VALUES})
            )
        )
    ),
    "pk",
    prepared=True,
)


def listing_detail_row(user, pk) -> dict:
    """The listing `pk` as a detail row, if `user` may see it (the rule of
    `access_listing`): a dict of LISTING_DETAIL_VALUES, `lat`, `lng`, its
    photos as `images` (dicts of LISTING_IMAGE_VALUES, cover first) and the
    cover's `cover_thumbnail`. Otherwise NotFound.

    The API's detail reads this instead of model instances: one statement
    compiled once (two on SQLite), no Listing, seller, category or photo
    objects."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise NotFound("No such listing.") from None
    # The statement binds pk as is: out of bigint's range no listing has it
    # (the ORM's lookups say so too, instead of sending it).
    if not 0 < pk < 2**63:
        raise NotFound("No such listing.")
    with_images = connection.vendor == "postgresql"
    statement = _detail_with_images_statement if with_images else _detail_statement
    rows = statement.rows(pk=pk)
    if not rows:
        raise NotFound("No such listing.")
    row = rows[0]
    known = user is not None and user.is_authenticated
    visible = (
        row["status"] in PUBLIC_STATUSES
        or (known and row["owner_id"] == user.pk)
        or (known and user.is_staff)
    )
    if not visible:
        raise NotFound("No such listing.")
    if not with_images:
        row["images"] = _images_statement.rows(pk=pk)
    images = row["images"]
    row["cover_thumbnail"] = images[0]["thumbnail"] if images else None
    return row


def access_listing_for_owner(user, pk, *, for_update: bool = False) -> Listing:
    """The listing `pk` if `user` owns it; NotFound for everyone else (writes)."""
    listing = access_listing(user, pk, for_update=for_update)
    if not (user and user.is_authenticated and listing.owner_id == user.pk):
        raise NotFound("No such listing.")
    return listing


def listing_get_public(pk) -> Listing:
    """An active or sold listing with its owner, category and photos."""
    return access_listing(None, pk)


def listing_list_for_owner(*, user, status: str | None = None) -> QuerySet[Listing]:
    """The user's own listings (any status), newest first, with their view and
    favourite counts (`view_count`, `favourite_count`) and photos."""
    qs = listing_card_queryset().filter(owner=user).order_by("-created_at", "-pk")
    if status:
        qs = qs.filter(status=status)
    return qs


def listing_status_counts_for_owner(*, user) -> dict[str, int]:
    """How many of the user's listings are in each status (for dashboard tabs)."""
    rows = (
        Listing.objects.filter(owner=user)
        .values_list("status")
        .annotate(n=Count("pk"))
        .values_list("status", "n")
    )
    counts = dict.fromkeys(ListingStatus.values, 0)
    counts.update(dict(rows))
    return counts


def listing_featured_list(*, category: Category | None = None, limit: int = 8):
    """Active listings with a running `featured` promotion, newest first."""
    qs = listing_card_queryset().active().filter(featured_until__gt=timezone.now())
    if category is not None:
        qs = qs.filter(category_id__in=category_descendant_ids(category))
    return list(qs.order_by("-bumped_at", "-pk")[:limit])


def listing_newest_list(*, limit: int = 12):
    """The newest active listings."""
    return list(listing_card_queryset().active().order_by("-bumped_at", "-pk")[:limit])


def listing_similar(listing: Listing, limit: int = 8):
    """Active listings in the same category, closest in price first."""
    return list(
        listing_card_queryset()
        .active()
        .filter(category_id=listing.category_id)
        .exclude(pk=listing.pk)
        .annotate(
            price_gap=Func(
                F("price") - listing.price, function="ABS", output_field=IntegerField()
            )
        )
        .order_by("price_gap", "-bumped_at", "-pk")[:limit]
    )


def listing_other_by_owner(listing: Listing, limit: int = 6):
    """The seller's other active listings, newest first."""
    return list(
        listing_card_queryset()
        .active()
        .filter(owner_id=listing.owner_id)
        .exclude(pk=listing.pk)
        .order_by("-bumped_at", "-pk")[:limit]
    )


def access_listing_image(user, listing_pk, image_pk) -> ListingImage:
    """A photo of a listing the user owns. Others get NotFound, or
    PermissionDenied for a public listing (whose photos anyone sees)."""
    listing = access_listing(user, listing_pk)
    if not (user and user.is_authenticated and listing.owner_id == user.pk):
        raise PermissionDenied("Only the seller can change this listing.")
    try:
        return ListingImage.objects.select_related("listing").get(
            listing=listing, pk=int(image_pk)
        )
    except (ValueError, TypeError, ListingImage.DoesNotExist):
        raise NotFound("No such photo.") from None


# --- Favourites and saved searches ---------------------------------------------


def favourite_list(*, user) -> QuerySet[Favourite]:
    """The user's favourites, newest first, with each listing ready for a card.

    Listings that are no longer public (archived, expired, ...) stay in the list
    with their status, so the user sees what happened to them."""
    return (
        Favourite.objects.filter(user=user)
        .select_related("listing__owner", "listing__category")
        .prefetch_related(
            Prefetch(
                "listing__images",
                queryset=ListingImage.objects.order_by("position", "pk"),
            )
        )
        .order_by("-created_at", "-pk")
    )


def access_favourite(user, listing_pk) -> Favourite:
    """The user's favourite of listing `listing_pk` with its listing, whatever
    the listing's status now (an archived one can still be removed), or
    NotFound."""
    # listing__pk, not listing_id: a foreign key's exact lookup passes an id
    # beyond 64 bits to SQLite as is (OverflowError -> 500).
    favourite = (
        Favourite.objects.filter(user=user, listing__pk=listing_pk)
        .select_related("listing")
        .first()
    )
    if favourite is None:
        raise NotFound("This listing is not in your favourites.")
    return favourite


def favourite_toggle_listing(user, pk, *, adding: bool) -> Listing:
    """The listing a heart button adds or removes: only a public listing can
    be added; one already in the user's favourites can be removed whatever its
    status now (the Favourites page lists archived and expired ones too).
    Removing one that is not there changes nothing. Otherwise NotFound."""
    if not adding:
        try:
            return access_favourite(user, pk).listing
        except NotFound:
            pass
    return listing_get_public(pk)


def favourite_listing_ids(*, user, listing_ids) -> set[int]:
    """Which of `listing_ids` the user has favourited (for heart icons)."""
    if user is None or not user.is_authenticated:
        return set()
    ids = [int(pk) for pk in listing_ids]
    if not ids:
        return set()
    return set(
        Favourite.objects.filter(user=user, listing_id__in=ids).values_list(
            "listing_id", flat=True
        )
    )


def saved_search_list(*, user) -> QuerySet[SavedSearch]:
    """The user's saved searches, newest first."""
    return SavedSearch.objects.filter(user=user).order_by("-created_at", "-pk")


def access_saved_search(user, pk) -> SavedSearch:
    """The user's own saved search `pk`, or NotFound."""
    try:
        return SavedSearch.objects.get(pk=int(pk), user=user)
    except (ValueError, TypeError, SavedSearch.DoesNotExist):
        raise NotFound("No such saved search.") from None


def listing_ids_needing_review_count() -> int:
    return Listing.objects.filter(status=ListingStatus.PENDING).count()
