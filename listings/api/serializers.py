"""API shapes of the listings app. Input serializers only validate; output
serializers only read; the views call services in between."""

from functools import cached_property, partial

from django.conf import settings
from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import ISO_8601, serializers
from rest_framework.settings import api_settings

from core.api.urls import absolute_url, site_root, stored_file_urls
from listings import pricing
from listings.models import (
    Category,
    CategoryAttribute,
    Condition,
    Favourite,
    Listing,
    ListingImage,
    SavedSearch,
    approximate,
)
from listings.selectors import LISTING_DETAIL_EXTRA_VALUES
from listings.services import (
    DESCRIPTION_MAX_LENGTH,
    DESCRIPTION_MIN_LENGTH,
    TITLE_MAX_LENGTH,
    TITLE_MIN_LENGTH,
    SavedSearchInactiveReason,
    SavedSearchState,
    saved_search_state,
)

# Formats datetimes as the declared DateTimeFields do (ListingCardSerializer).
_DATETIME = serializers.DateTimeField()


def _datetime_formatter():
    """`_DATETIME.to_representation` for the aware datetimes of one response,
    with the current time zone looked up once: DRF looks it up for every value
    (a thread-local read), a fifth of a card's CPU. DRF's own when the API's
    datetime format is not ISO 8601."""
    output_format = api_settings.DATETIME_FORMAT
    if not (
        settings.USE_TZ
        and isinstance(output_format, str)
        and output_format.lower() == ISO_8601
    ):
        return _DATETIME.to_representation
    zone = timezone.get_current_timezone()

    def to_datetime(value):
        if value is None:
            return None
        text = value.astimezone(zone).isoformat()
        return text[:-6] + "Z" if text.endswith("+00:00") else text

    return to_datetime


def _profile_url(request, user_pk) -> str:
    return absolute_url(request, f"/users/{user_pk}/")


def _listing_url(request, pk) -> str:
    return absolute_url(request, f"/listings/{pk}/")


def _distance_km(metres: float | None) -> float | None:
    return None if metres is None else round(metres / 1000, 3)


def _card_row(listing: Listing) -> dict:
    """A Listing as the card row `listings.selectors.listing_card_values`
    reads from the database."""
    owner, category, cover = listing.owner, listing.category, listing.cover
    return {
        "id": listing.pk,
        "title": listing.title,
        "price": listing.price,
        "currency": listing.currency,
        "is_negotiable": listing.is_negotiable,
        "condition": listing.condition,
        "city": listing.city,
        "lat": listing.lat,
        "lng": listing.lng,
        "status": listing.status,
        "is_promoted": listing.is_promoted,
        "published_at": listing.published_at,
        "bumped_at": listing.bumped_at,
        "category_id": category.pk,
        "category__name": category.name,
        "category__slug": category.slug,
        "category__icon": category.icon,
        "owner_id": owner.pk,
        "owner__display_name": owner.display_name,
        "owner__city": owner.city,
        "owner__is_verified": owner.is_verified,
        "owner__date_joined": owner.date_joined,
        "distance_m": getattr(listing, "distance_m", None),
        "cover_thumbnail": cover.thumbnail.name if cover is not None else None,
    }


def _detail_row(listing: Listing) -> dict:
    """A Listing as the detail row `listings.selectors.listing_detail_row`
    reads from the database."""
    row = _card_row(listing)
    row.update({name: getattr(listing, name) for name in LISTING_DETAIL_EXTRA_VALUES})
    row["images"] = [
        {
            "id": image.pk,
            "position": image.position,
            "image": image.image.name,
            "thumbnail": image.thumbnail.name,
            "width": image.width,
            "height": image.height,
        }
        for image in listing.images.all()
    ]
    return row


# --- Categories -----------------------------------------------------------------


class CategoryAttributeSerializer(serializers.ModelSerializer):
    class Meta:
        model = CategoryAttribute
        fields = [
            "name",
            "label",
            "type",
            "choices",
            "unit",
            "is_required",
            "is_filterable",
            "min_value",
            "max_value",
        ]
        read_only_fields = fields


class CategoryTreeSerializer(serializers.Serializer):
    """A category node: its own attribute declarations (children inherit them)
    and its active children, recursively."""

    id = serializers.IntegerField()
    name = serializers.CharField()
    slug = serializers.CharField()
    icon = serializers.CharField()
    listing_count = serializers.IntegerField(
        help_text="Active listings in this category and its descendants."
    )
    attributes = serializers.SerializerMethodField()
    children = serializers.SerializerMethodField()

    @extend_schema_field(CategoryAttributeSerializer(many=True))
    def get_attributes(self, node):
        declared = self.context.get("attributes_by_category", {})
        return CategoryAttributeSerializer(declared.get(node.id, []), many=True).data

    @extend_schema_field(
        {"type": "array", "items": {"$ref": "#/components/schemas/CategoryTree"}}
    )
    def get_children(self, node):
        return CategoryTreeSerializer(
            node.children, many=True, context=self.context
        ).data


class CategoryRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Category
        fields = ["id", "name", "slug", "icon"]
        read_only_fields = fields


class CategoryDetailSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="category.pk")
    name = serializers.CharField(source="category.name")
    slug = serializers.CharField(source="category.slug")
    icon = serializers.CharField(source="category.icon")
    ancestors = CategoryRefSerializer(many=True)
    children = CategoryRefSerializer(many=True)
    attributes = CategoryAttributeSerializer(
        many=True, help_text="Own and inherited declarations a listing fills in."
    )


# --- Listings -------------------------------------------------------------------


class SellerSummarySerializer(serializers.Serializer):
    """What anyone may see about a seller."""

    id = serializers.IntegerField()
    name = serializers.CharField(source="public_name")
    city = serializers.CharField()
    is_verified = serializers.BooleanField()
    member_since = serializers.DateTimeField(source="date_joined")
    profile_url = serializers.SerializerMethodField()

    def get_profile_url(self, user) -> str:
        return _profile_url(self.context.get("request"), user.pk)


class ListingImageSerializer(serializers.ModelSerializer):
    image_url = serializers.SerializerMethodField()
    thumbnail_url = serializers.SerializerMethodField()

    class Meta:
        model = ListingImage
        fields = ["id", "position", "image_url", "thumbnail_url", "width", "height"]
        read_only_fields = fields

    def get_image_url(self, image) -> str:
        return absolute_url(self.context.get("request"), image.image.url)

    def get_thumbnail_url(self, image) -> str:
        return absolute_url(self.context.get("request"), image.thumbnail.url)


class ListingCardSerializer(serializers.ModelSerializer):
    """A listing in a list: enough for a card and a map marker."""

    category = CategoryRefSerializer()
    seller = SellerSummarySerializer(source="owner")
    lat = serializers.FloatField(
        source="approx_lat",
        allow_null=True,
        help_text="Rounded to two decimals (about 1 km): the neighbourhood, "
        "never the seller's point. The owner finds the point in `owner_stats`.",
    )
    lng = serializers.FloatField(
        source="approx_lng", allow_null=True, help_text="Rounded like `lat`."
    )
    price_display = serializers.CharField()
    thumbnail_url = serializers.SerializerMethodField()
    distance_km = serializers.SerializerMethodField(
        help_text="Distance from the given lat/lng; null without a point."
    )
    url = serializers.SerializerMethodField()

    class Meta:
        model = Listing
        fields = [
            "id",
            "title",
            "price",
            "currency",
            "price_display",
            "is_negotiable",
            "condition",
            "city",
            "lat",
            "lng",
            "status",
            "category",
            "thumbnail_url",
            "is_promoted",
            "distance_km",
            "published_at",
            "bumped_at",
            "seller",
            "url",
        ]
        read_only_fields = fields
        extra_kwargs = {"price": {"help_text": "Minor units (tiyn, cents)."}}

    def to_representation(self, listing):
        """The card built by hand: DRF's generic walk over 19 fields and two
        nested serializers cost ~0.2 ms a card, the largest part of a search
        page's CPU (bench/FINDINGS.md, 8). The fields declared above still
        describe it (schema); a test checks both give the same JSON.

        `listing` is a Listing (with owner, category and photos loaded) or a
        card row of `listings.selectors.listing_card_values` with its cover
        (what the API's search reads: no model instances)."""
        row = listing if isinstance(listing, dict) else _card_row(listing)
        request = self.context.get("request")
        to_datetime = self._to_datetime
        # Our own paths are plain ASCII: absolute_url would only prepend this.
        root = self._site_root
        cover = row["cover_thumbnail"]
        return {
            "id": row["id"],
            "title": row["title"],
            "price": row["price"],
            "currency": row["currency"],
            "price_display": pricing.price_display(row["price"], row["currency"]),
            "is_negotiable": row["is_negotiable"],
            "condition": row["condition"],
            "city": row["city"],
            "lat": approximate(row["lat"]),
            "lng": approximate(row["lng"]),
            "status": row["status"],
            "category": {
                "id": row["category_id"],
                "name": row["category__name"],
                "slug": row["category__slug"],
                "icon": row["category__icon"],
            },
            "thumbnail_url": None
            if cover is None
            else absolute_url(request, self._thumbnail_url(cover)),
            "is_promoted": row["is_promoted"],
            "distance_km": _distance_km(row.get("distance_m")),
            "published_at": to_datetime(row["published_at"]),
            "bumped_at": to_datetime(row["bumped_at"]),
            "seller": {
                "id": row["owner_id"],
                "name": row["owner__display_name"] or f"Member #{row['owner_id']}",
                "city": row["owner__city"],
                "is_verified": row["owner__is_verified"],
                "member_since": to_datetime(row["owner__date_joined"]),
                "profile_url": f"{root}/users/{row['owner_id']}/",
            },
            "url": f"{root}/listings/{row['id']}/",
        }

    @cached_property
    def _to_datetime(self):
        # One serializer serves one response (the child of a list: all cards).
        return _datetime_formatter()

    @cached_property
    def _site_root(self) -> str:
        return site_root(self.context.get("request"))

    @cached_property
    def _thumbnail_url(self):
        """A stored thumbnail's URL, as `ListingImage.thumbnail.url` gives it."""
        return stored_file_urls(ListingImage._meta.get_field("thumbnail").storage)

    @cached_property
    def _image_url(self):
        """A stored photo's URL, as `ListingImage.image.url` gives it."""
        return stored_file_urls(ListingImage._meta.get_field("image").storage)

    def get_thumbnail_url(self, listing) -> str | None:
        cover = listing.cover
        if cover is None:
            return None
        return absolute_url(self.context.get("request"), cover.thumbnail.url)

    @extend_schema_field(serializers.FloatField(allow_null=True))
    def get_distance_km(self, listing):
        return _distance_km(getattr(listing, "distance_m", None))

    def get_url(self, listing) -> str:
        return _listing_url(self.context.get("request"), listing.pk)


class ListingDetailSerializer(ListingCardSerializer):
    images = ListingImageSerializer(many=True)
    owner_stats = serializers.SerializerMethodField(
        help_text="Only for the owner: favourites, expiry and moderation notes."
    )

    class Meta(ListingCardSerializer.Meta):
        fields = [
            *ListingCardSerializer.Meta.fields,
            "description",
            "attributes",
            "images",
            "view_count",
            "created_at",
            "updated_at",
            "expires_at",
            "owner_stats",
        ]
        read_only_fields = fields

    def to_representation(self, listing):
        """By hand too (the card, then the rest, in the declared order):
        DRF's generic walk builds every field and the nested serializers of
        each instance anew, 0.9 ms of a 4 ms request. A test holds it equal to
        the generic output of the declared fields.

        `listing` is a Listing (with owner, category and photos loaded) or a
        detail row of `listings.selectors.listing_detail_row` (what the API's
        detail reads)."""
        row = listing if isinstance(listing, dict) else _detail_row(listing)
        data = super().to_representation(row)
        request = self.context.get("request")
        to_datetime = self._to_datetime
        image_url, thumbnail_url = self._image_url, self._thumbnail_url
        data.update(
            {
                "description": row["description"],
                "attributes": row["attributes"],
                "images": [
                    {
                        "id": image["id"],
                        "position": image["position"],
                        "image_url": absolute_url(request, image_url(image["image"])),
                        "thumbnail_url": absolute_url(
                            request, thumbnail_url(image["thumbnail"])
                        ),
                        "width": image["width"],
                        "height": image["height"],
                    }
                    for image in row["images"]
                ],
                "view_count": row["view_count"],
                "created_at": to_datetime(row["created_at"]),
                "updated_at": to_datetime(row["updated_at"]),
                "expires_at": to_datetime(row["expires_at"]),
                "owner_stats": self.get_owner_stats(row),
            }
        )
        return data

    @extend_schema_field(
        {
            "type": "object",
            "nullable": True,
            "properties": {
                "favourite_count": {"type": "integer"},
                "view_count": {"type": "integer"},
                "expires_at": {
                    "type": "string",
                    "format": "date-time",
                    "nullable": True,
                },
                "rejection_reason": {"type": "string"},
                "featured_until": {
                    "type": "string",
                    "format": "date-time",
                    "nullable": True,
                    "description": "Null when not featured.",
                },
                "top_until": {
                    "type": "string",
                    "format": "date-time",
                    "nullable": True,
                    "description": "Null when not on top.",
                },
                "lat": {
                    "type": "number",
                    "nullable": True,
                    "description": "The listing's point as its owner set it "
                    "(others see `lat` rounded).",
                },
                "lng": {"type": "number", "nullable": True},
            },
        }
    )
    def get_owner_stats(self, listing):
        """`listing`: a Listing or a detail row."""
        request = self.context.get("request")
        user = getattr(request, "user", None)
        get = listing.get if isinstance(listing, dict) else partial(getattr, listing)
        if not (user and user.is_authenticated and user.pk == get("owner_id")):
            return None
        return {
            "favourite_count": get("favourite_count"),
            "view_count": get("view_count"),
            "expires_at": get("expires_at"),
            "rejection_reason": get("rejection_reason"),
            "featured_until": get("featured_until"),
            "top_until": get("top_until"),
            "lat": get("lat"),
            "lng": get("lng"),
        }


class ListingCreateInput(serializers.Serializer):
    category = serializers.SlugField(help_text="Slug of a leaf category.")
    title = serializers.CharField(
        min_length=TITLE_MIN_LENGTH, max_length=TITLE_MAX_LENGTH
    )
    description = serializers.CharField(
        min_length=DESCRIPTION_MIN_LENGTH, max_length=DESCRIPTION_MAX_LENGTH
    )
    price = serializers.IntegerField(
        min_value=0, help_text="Minor units: 1500000 is 15 000.00 KZT."
    )
    currency = serializers.CharField(max_length=3, required=False)
    is_negotiable = serializers.BooleanField(required=False, default=False)
    condition = serializers.ChoiceField(choices=Condition.choices)
    city = serializers.CharField(max_length=80)
    lat = serializers.FloatField(
        required=False, allow_null=True, min_value=-90, max_value=90
    )
    lng = serializers.FloatField(
        required=False, allow_null=True, min_value=-180, max_value=180
    )
    attributes = serializers.DictField(
        required=False,
        help_text="Values of the category's attributes by name.",
    )
    publish = serializers.BooleanField(required=False, default=False)

    def validate(self, data):
        if ("lat" in data) != ("lng" in data):
            raise serializers.ValidationError("Give both lat and lng, or neither.")
        return data


class ListingUpdateInput(ListingCreateInput):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields.pop("publish")
        for field in self.fields.values():
            field.required = False


class ImageUploadInput(serializers.Serializer):
    image = serializers.FileField(help_text="A JPEG, PNG or WebP photo.")


class ImageReorderInput(serializers.Serializer):
    image_ids = serializers.ListField(
        child=serializers.IntegerField(), allow_empty=False, max_length=50
    )


# --- Favourites and saved searches ----------------------------------------------


class FavouriteSerializer(serializers.ModelSerializer):
    listing = ListingCardSerializer()

    class Meta:
        model = Favourite
        fields = ["listing", "created_at"]
        read_only_fields = fields


class FavouriteInput(serializers.Serializer):
    listing = serializers.IntegerField(help_text="Id of an active listing.")


class SavedSearchSerializer(serializers.ModelSerializer):
    query = serializers.SerializerMethodField(
        help_text="The parameters as a query string for /search/ or the API."
    )
    notifies = serializers.SerializerMethodField(
        help_text="False when the search can no longer notify its owner "
        "(see `inactive_reason`)."
    )
    inactive_reason = serializers.SerializerMethodField(
        help_text="Why it does not notify, null when it does: `no_filter` (saved "
        "before a filter was required, it would match every new listing) or "
        "`outdated` (a category or filter it uses no longer exists)."
    )

    class Meta:
        model = SavedSearch
        fields = [
            "id",
            "name",
            "frequency",
            "params",
            "query",
            "notifies",
            "inactive_reason",
            "created_at",
            "last_notified_at",
        ]
        read_only_fields = fields

    def get_query(self, saved_search) -> str:
        from urllib.parse import urlencode

        return urlencode(saved_search.params)

    def get_notifies(self, saved_search) -> bool:
        return self._state(saved_search).notifies

    @extend_schema_field(
        serializers.ChoiceField(
            choices=SavedSearchInactiveReason.choices, allow_null=True
        )
    )
    def get_inactive_reason(self, saved_search) -> str | None:
        reason = self._state(saved_search).inactive_reason
        return reason.value if reason else None

    def _state(self, saved_search) -> SavedSearchState:
        # Both fields come from one check (it may read the category): kept for
        # the row being serialized (a list reuses this serializer per row).
        last = getattr(self, "_last_state", None)
        if last is None or last[0] is not saved_search:
            last = (saved_search, saved_search_state(saved_search))
            self._last_state = last
        return last[1]


class SavedSearchInput(serializers.Serializer):
    name = serializers.CharField(max_length=120)
    frequency = serializers.ChoiceField(
        choices=SavedSearch.Frequency.choices, default=SavedSearch.Frequency.INSTANT
    )
    params = serializers.DictField(
        child=serializers.CharField(allow_blank=True),
        help_text="Search parameters as in GET /api/v1/listings/ "
        '(e.g. {"q": "bmw", "category": "cars", "price_max": "5000000"}).',
    )


class SavedSearchUpdateInput(serializers.Serializer):
    frequency = serializers.ChoiceField(choices=SavedSearch.Frequency.choices)
