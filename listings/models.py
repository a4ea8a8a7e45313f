from django.conf import settings
from django.contrib.gis.db import models as gis_models
from django.db import models
from django.db.models import Q
from django.db.models.functions import Upper
from django.urls import reverse


class Category(models.Model):
    """A node of the category tree (Electronics > Phones).

    `path` is the materialized path of primary keys ("/1/7/"), kept by
    `listings.services.category_save`, so "this category and its descendants" is
    one indexed prefix match.
    """

    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=100, unique=True)
    icon = models.CharField(
        max_length=32, blank=True, help_text="An emoji or icon name."
    )
    order = models.PositiveIntegerField(default=0)
    is_active = models.BooleanField(default=True)
    path = models.CharField(max_length=255, blank=True, db_index=True, editable=False)

    class Meta:
        ordering = ["order", "name"]
        verbose_name_plural = "categories"

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("listings:category", kwargs={"slug": self.slug})


class AttributeType(models.TextChoices):
    NUMBER = "number", "Number"
    CHOICE = "choice", "Choice"
    TEXT = "text", "Text"
    BOOLEAN = "boolean", "Yes/no"
    YEAR = "year", "Year"


class CategoryAttribute(models.Model):
    """A typed field that listings of a category (and its descendants) fill in."""

    category = models.ForeignKey(
        Category, on_delete=models.CASCADE, related_name="attributes"
    )
    name = models.SlugField(max_length=50, help_text="Machine name, e.g. mileage.")
    label = models.CharField(max_length=100)
    type = models.CharField(max_length=16, choices=AttributeType.choices)
    choices = models.JSONField(default=list, blank=True, help_text="For choice fields.")
    unit = models.CharField(max_length=16, blank=True)
    is_required = models.BooleanField(default=False)
    is_filterable = models.BooleanField(default=True)
    min_value = models.IntegerField(null=True, blank=True)
    max_value = models.IntegerField(null=True, blank=True)
    order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["order", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["category", "name"], name="unique_attribute_name"
            )
        ]

    def __str__(self):
        return f"{self.category}: {self.label}"


class Condition(models.TextChoices):
    NEW = "new", "New"
    USED = "used", "Used"


# Two decimals of a degree are ~1.1 km north-south: the neighbourhood, never
# the seller's doorstep. Everything others see of a listing's point (pages,
# map markers, the API) is rounded so; only its owner sees the point itself.
APPROXIMATE_DECIMALS = 2


def approximate(coordinate: float | None) -> float | None:
    return None if coordinate is None else round(coordinate, APPROXIMATE_DECIMALS)


class ListingStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    PENDING = "pending", "Pending review"
    ACTIVE = "active", "Active"
    SOLD = "sold", "Sold"
    ARCHIVED = "archived", "Archived"
    EXPIRED = "expired", "Expired"
    REJECTED = "rejected", "Rejected"


# The statuses an owner may archive from: "take it off the site, keep it in
# my dashboard". Drafts are deleted instead; listings in review or rejected by
# a moderator stay where moderation can see them (listings.services.transitions).
ARCHIVABLE_STATUSES = (ListingStatus.ACTIVE, ListingStatus.EXPIRED, ListingStatus.SOLD)


class ListingQuerySet(models.QuerySet):
    def active(self):
        return self.filter(status=ListingStatus.ACTIVE)


class Listing(models.Model):
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="listings"
    )
    category = models.ForeignKey(
        Category, on_delete=models.PROTECT, related_name="listings"
    )
    title = models.CharField(max_length=120)
    description = models.TextField(max_length=5000)
    # Minor units (tiyn, cents) with the currency code; never floats.
    price = models.BigIntegerField()
    currency = models.CharField(max_length=3, default="KZT")
    is_negotiable = models.BooleanField(default=False)
    condition = models.CharField(max_length=8, choices=Condition.choices)
    city = models.CharField(max_length=80, db_index=True)
    location = gis_models.PointField(srid=4326, geography=True, null=True, blank=True)
    attributes = models.JSONField(default=dict, blank=True)
    status = models.CharField(
        max_length=16, choices=ListingStatus.choices, default=ListingStatus.DRAFT
    )
    rejection_reason = models.TextField(blank=True)
    # The status an archived listing had before (one of ARCHIVABLE_STATUSES),
    # so renew knows whether it may go live again; empty otherwise.
    archived_from = models.CharField(
        max_length=16,
        choices=ListingStatus.choices,
        blank=True,
        default="",
        db_default="",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    published_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    # Newest-first sorts by this: set on publish, moved by a paid bump.
    bumped_at = models.DateTimeField(null=True, blank=True)
    expiry_warned_at = models.DateTimeField(null=True, blank=True)
    # Paid promotions (bought through the wallet, applied by
    # listings.services.listing_apply_promotion): active while in the future.
    featured_until = models.DateTimeField(null=True, blank=True)
    top_until = models.DateTimeField(null=True, blank=True)
    # True while a `top` or `featured` promotion runs: set by
    # listing_apply_promotion, cleared by the listings_promotions_expire job
    # (every minute). Stored so that "promoted first, then newest" is one
    # index scan instead of a sort of every active listing.
    is_promoted = models.BooleanField(default=False, editable=False)
    view_count = models.PositiveIntegerField(default=0)
    favourite_count = models.PositiveIntegerField(default=0)

    objects = ListingQuerySet.as_manager()

    class Meta:
        ordering = ["-bumped_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(price__gte=0), name="listing_price_non_negative"
            ),
            models.CheckConstraint(
                condition=(
                    Q(
                        status=ListingStatus.ARCHIVED,
                        archived_from__in=ARCHIVABLE_STATUSES,
                    )
                    | (~Q(status=ListingStatus.ARCHIVED) & Q(archived_from=""))
                ),
                name="listing_archived_from_matches_status",
            ),
        ]
        indexes = [
            models.Index(
                fields=["status", "-bumped_at", "-id"], name="listing_newest_idx"
            ),
            models.Index(
                fields=["status", "category", "-bumped_at"],
                name="listing_cat_newest_idx",
            ),
            # Search's default order: promoted first, then newest (scanned
            # backwards), and promoted first then price high to low.
            models.Index(
                fields=["status", "is_promoted", "bumped_at", "id"],
                name="listing_feed_idx",
            ),
            models.Index(
                fields=["status", "is_promoted", "price"], name="listing_price_idx"
            ),
            models.Index(fields=["owner", "status"], name="listing_owner_idx"),
            models.Index(fields=["status", "expires_at"], name="listing_expiry_idx"),
            models.Index(
                fields=["status", "published_at"], name="listing_published_idx"
            ),
            models.Index(
                fields=["status", "condition", "-bumped_at"],
                name="listing_condition_idx",
            ),
            # city__iexact compares UPPER(city): index that expression.
            models.Index(Upper("city"), "status", name="listing_city_upper_idx"),
            # On PostgreSQL, migration 0004 adds GIN indexes on the generated
            # search_vector column (free text) and on attributes (jsonb @>);
            # the location column has its GiST index from the PointField.
        ]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("listings:detail", kwargs={"pk": self.pk})

    @property
    def is_active(self) -> bool:
        return self.status == ListingStatus.ACTIVE

    @property
    def is_public(self) -> bool:
        return self.status in (ListingStatus.ACTIVE, ListingStatus.SOLD)

    @property
    def cover(self):
        """The first photo (position 0), from the prefetched photos if any."""
        images = list(self.images.all())
        return images[0] if images else None

    @property
    def lat(self) -> float | None:
        return self.location.y if self.location else None

    @property
    def lng(self) -> float | None:
        return self.location.x if self.location else None

    @property
    def approx_lat(self) -> float | None:
        """The latitude shown to others: see `approximate`."""
        return approximate(self.lat)

    @property
    def approx_lng(self) -> float | None:
        return approximate(self.lng)

    @property
    def is_promoted_now(self) -> bool:
        from django.utils import timezone

        now = timezone.now()
        return bool(
            (self.top_until and self.top_until > now)
            or (self.featured_until and self.featured_until > now)
        )

    @property
    def price_display(self) -> str:
        from listings.pricing import price_display

        return price_display(self.price, self.currency)


class ListingImage(models.Model):
    """A listing photo, stored cleaned (no EXIF) in display and thumbnail sizes."""

    listing = models.ForeignKey(
        Listing, on_delete=models.CASCADE, related_name="images"
    )
    image = models.ImageField(upload_to="listings/%Y/%m/")
    thumbnail = models.ImageField(upload_to="listings/thumbs/%Y/%m/")
    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)
    position = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["position", "pk"]
        indexes = [models.Index(fields=["listing", "position"])]

    def __str__(self):
        return f"Photo {self.position} of {self.listing_id}"


class Favourite(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="favourites"
    )
    listing = models.ForeignKey(
        Listing, on_delete=models.CASCADE, related_name="favourites"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["user", "listing"], name="unique_favourite")
        ]

    def __str__(self):
        return f"{self.user} ♥ {self.listing}"


class SavedSearch(models.Model):
    class Frequency(models.TextChoices):
        INSTANT = "instant", "Right away"
        DAILY = "daily", "Daily"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="saved_searches",
    )
    name = models.CharField(max_length=120)
    # The normalised search parameters, as the search service accepts them.
    params = models.JSONField(default=dict)
    frequency = models.CharField(
        max_length=16, choices=Frequency.choices, default=Frequency.INSTANT
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return self.name


class ListingView(models.Model):
    """One visitor's view of a listing on one day; unique, so counted once."""

    listing = models.ForeignKey(Listing, on_delete=models.CASCADE, related_name="+")
    visitor_key = models.CharField(max_length=64)
    day = models.DateField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["listing", "visitor_key", "day"], name="unique_daily_view"
            )
        ]

    def __str__(self):
        return f"{self.listing_id} seen by {self.visitor_key} on {self.day}"


class SavedSearchMatch(models.Model):
    """A listing a saved search has announced, so it is announced only once."""

    saved_search = models.ForeignKey(
        SavedSearch, on_delete=models.CASCADE, related_name="matches"
    )
    listing = models.ForeignKey(
        Listing, on_delete=models.CASCADE, related_name="saved_search_matches"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["saved_search", "listing"], name="unique_saved_search_match"
            )
        ]

    def __str__(self):
        return f"{self.saved_search_id} matched {self.listing_id}"
