"""Listings API: thin adapters. Parse input, call one selector or service,
serialize. Domain errors become 4xx answers in core.api.exceptions."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import permissions, status
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from core.api.caching import PublicReadCacheMixin
from core.api.pagination import ProbePagination
from core.api.views import ScopedGenericViewSet
from core.errors import NotFound, ValidationError
from listings import selectors, services
from listings.api import serializers as s
from listings.models import CategoryAttribute, Favourite, Listing, SavedSearch
from listings.search import (
    parse_search_params,
    search_card_rows,
    search_plan,
)

SEARCH_PARAMETERS = [
    OpenApiParameter("q", str, description="Free text; every word must match."),
    OpenApiParameter(
        "category", str, description="Category slug (includes its descendants)."
    ),
    OpenApiParameter(
        "price_min", str, description="Minimum price in MAJOR units (e.g. 15000)."
    ),
    OpenApiParameter(
        "price_max", str, description="Maximum price in MAJOR units (e.g. 250000)."
    ),
    OpenApiParameter("condition", str, enum=["new", "used"]),
    OpenApiParameter("city", str, description="City name, case-insensitive."),
    OpenApiParameter("lat", float, description="Latitude of the search point."),
    OpenApiParameter("lng", float, description="Longitude of the search point."),
    OpenApiParameter("radius_km", float, description="Radius around lat/lng, km."),
    OpenApiParameter("has_photos", bool),
    OpenApiParameter("posted_within_days", int, description="1 to 365."),
    OpenApiParameter(
        "ordering",
        str,
        enum=["newest", "relevance", "price_asc", "price_desc", "distance"],
        default="newest",
        description="Newest first by default; `relevance` ranks text matches "
        "(title above description). Promoted listings come first except for "
        "distance.",
    ),
    OpenApiParameter(
        "attr_<name>",
        str,
        description="Category attribute equals a value; number and year "
        "attributes also take attr_<name>_min and attr_<name>_max. Needs "
        "`category`; see GET /api/v1/categories/{slug}/ for the names.",
    ),
]


def _category_by_slug(slug: str):
    try:
        return selectors.category_get(slug=slug)
    except NotFound:
        raise ValidationError("Unknown category.", field="category") from None


class CategoryViewSet(PublicReadCacheMixin, ScopedGenericViewSet):
    """The category tree and one category's attribute declarations. Anonymous
    reads may be cached by shared caches for a few seconds (core/api/caching)."""

    permission_classes = [permissions.AllowAny]
    lookup_field = "slug"
    # Slugs are ASCII letters, digits, "-" and "_": anything else (a NUL, which
    # PostgreSQL refuses in a query: 500) is a 404 before the database.
    lookup_value_regex = "[-a-zA-Z0-9_]+"
    serializer_class = s.CategoryTreeSerializer

    def get_scoped_queryset(self, user):
        return selectors.category_list_with_attributes()

    @extend_schema(
        summary="The category tree",
        description="Root categories (paginated), each with nested children, "
        "listing counts and own attribute declarations (inherited by children).",
        responses=s.CategoryTreeSerializer(many=True),
    )
    def list(self, request):
        roots = selectors.category_tree()
        declared: dict[int, list] = {}
        for attribute in CategoryAttribute.objects.filter(
            category__is_active=True
        ).order_by("order", "pk"):
            declared.setdefault(attribute.category_id, []).append(attribute)
        page = self.paginate_queryset(roots)
        data = s.CategoryTreeSerializer(
            page, many=True, context={"attributes_by_category": declared}
        ).data
        return self.get_paginated_response(data)

    @extend_schema(
        summary="One category",
        description="Its ancestors, children and every attribute a listing "
        "in it fills in (own and inherited).",
        responses=s.CategoryDetailSerializer,
    )
    def retrieve(self, request, slug=None):
        category = selectors.category_get(slug=slug)
        payload = {
            "category": category,
            "ancestors": selectors.category_ancestors(category),
            "children": category.children.filter(is_active=True),
            "attributes": selectors.category_attributes_for(category),
        }
        return Response(s.CategoryDetailSerializer(payload).data)


class ListingSearchPagination(ProbePagination):
    # Card rows, not model instances: ListingCardSerializer takes either.
    fetch = staticmethod(search_card_rows)


class ListingViewSet(PublicReadCacheMixin, ScopedGenericViewSet):
    """Search, read and (for the owner) change listings. Anonymous search and
    detail answers may be cached by shared caches for a few seconds
    (core/api/caching)."""

    permission_classes = [permissions.IsAuthenticatedOrReadOnly]
    serializer_class = s.ListingCardSerializer
    lookup_value_regex = "[0-9]+"
    parser_classes = [JSONParser, MultiPartParser, FormParser]
    pagination_class = ListingSearchPagination

    def _search_plan(self):
        """The search the query string asks for, as far as the page reaches."""
        return search_plan(
            parse_search_params(self.request.query_params),
            reach=self.paginator.reach(self.request),
        )

    def get_scoped_queryset(self, user):
        if getattr(self, "swagger_fake_view", False):
            return Listing.objects.none()
        return self._search_plan().queryset()

    def _detail(self, pk, *, status_code=status.HTTP_200_OK):
        """The detail response, read anew (after a write too)."""
        row = selectors.listing_detail_row(self.request.user, pk)
        data = s.ListingDetailSerializer(row, context={"request": self.request})
        return Response(data.data, status=status_code)

    def _own(self, pk):
        """The listing if the caller may see it; the service checks ownership."""
        return selectors.access_listing(self.request.user, pk)

    @extend_schema(
        summary="Search listings",
        parameters=SEARCH_PARAMETERS,
        responses={
            200: s.ListingCardSerializer(many=True),
            503: OpenApiResponse(
                description="The search took too long (PostgreSQL only); "
                "narrow it and retry after Retry-After."
            ),
        },
    )
    def list(self, request):
        # The search's plan, not its queryset: its pages are read from
        # statements compiled once per shape (search_card_rows).
        page = self.paginate_queryset(self._search_plan())
        data = s.ListingCardSerializer(page, many=True, context={"request": request})
        return self.get_paginated_response(data.data)

    @extend_schema(
        summary="Post a listing",
        request=s.ListingCreateInput,
        responses={201: s.ListingDetailSerializer},
    )
    def create(self, request):
        form = s.ListingCreateInput(data=request.data)
        form.is_valid(raise_exception=True)
        data = dict(form.validated_data)
        data["category"] = _category_by_slug(data["category"])
        listing = services.listing_create(owner=request.user, **data)
        return self._detail(listing.pk, status_code=status.HTTP_201_CREATED)

    @extend_schema(summary="One listing", responses=s.ListingDetailSerializer)
    def retrieve(self, request, pk=None):
        return self._detail(pk)

    @extend_schema(
        summary="Change a listing (owner)",
        request=s.ListingUpdateInput,
        responses=s.ListingDetailSerializer,
    )
    def partial_update(self, request, pk=None):
        listing = self._own(pk)
        form = s.ListingUpdateInput(data=request.data, partial=True)
        form.is_valid(raise_exception=True)
        data = dict(form.validated_data)
        if "category" in data:
            data["category"] = _category_by_slug(data["category"])
        listing = services.listing_update(listing=listing, actor=request.user, **data)
        return self._detail(listing.pk)

    @extend_schema(summary="Delete a listing (owner)", responses={204: None})
    def destroy(self, request, pk=None):
        services.listing_delete(listing=self._own(pk), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    def _transition(self, service, pk):
        listing = service(listing=self._own(pk), actor=self.request.user)
        return self._detail(listing.pk)

    @extend_schema(
        summary="Publish a draft (or send it to review)",
        description="A draft goes live, or to review when review is on; a "
        "rejected (or hidden) listing goes back to review. Any other status: 409.",
        request=None,
        responses={
            200: s.ListingDetailSerializer,
            409: OpenApiResponse(description="The status does not allow it."),
        },
    )
    @action(detail=True, methods=["post"])
    def publish(self, request, pk=None):
        return self._transition(services.listing_publish, pk)

    @extend_schema(
        summary="Mark as sold", request=None, responses=s.ListingDetailSerializer
    )
    @action(detail=True, methods=["post"], url_path="mark-sold")
    def mark_sold(self, request, pk=None):
        return self._transition(services.listing_mark_sold, pk)

    @extend_schema(
        summary="Renew for another lifetime",
        description="An active listing gets a new lifetime; an expired one, or "
        "one archived while active or expired, goes live again. A listing "
        "archived after it sold stays archived (409), as do drafts, listings "
        "in review and rejected ones.",
        request=None,
        responses={
            200: s.ListingDetailSerializer,
            409: OpenApiResponse(description="The status does not allow it."),
        },
    )
    @action(detail=True, methods=["post"])
    def renew(self, request, pk=None):
        return self._transition(services.listing_renew, pk)

    @extend_schema(
        summary="Archive",
        description="Takes an active, expired or sold listing off the site; it "
        "stays in the owner's listings. A draft (delete it instead), a listing "
        "in review, a rejected one or an archived one: 409.",
        request=None,
        responses={
            200: s.ListingDetailSerializer,
            409: OpenApiResponse(description="The status does not allow it."),
        },
    )
    @action(detail=True, methods=["post"])
    def archive(self, request, pk=None):
        return self._transition(services.listing_archive, pk)

    @extend_schema(
        summary="Add a photo (multipart, field `image`)",
        description="One photo per request: a body with more than one `image` "
        "part is a 400 naming `image`, and nothing is stored. A listing holds "
        "at most `LISTING_MAX_IMAGES` (10) photos.",
        request={"multipart/form-data": s.ImageUploadInput},
        responses={201: s.ListingImageSerializer},
    )
    @action(detail=True, methods=["post"], parser_classes=[MultiPartParser])
    def images(self, request, pk=None):
        listing = self._own(pk)
        # The serializer would keep the last part only and drop the others
        # without a word.
        if len(request.FILES.getlist("image")) > 1:
            raise ValidationError(
                "Send one photo per request (one `image` part).", field="image"
            )
        form = s.ImageUploadInput(data=request.data)
        form.is_valid(raise_exception=True)
        image = services.listing_image_add(
            listing=listing, actor=request.user, upload=form.validated_data["image"]
        )
        data = s.ListingImageSerializer(image, context={"request": request}).data
        return Response(data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Delete a photo",
        parameters=[OpenApiParameter("image_id", OpenApiTypes.INT, "path")],
        responses={204: None},
    )
    @action(
        detail=True,
        methods=["delete"],
        url_path=r"images/(?P<image_id>[0-9]+)",
        url_name="image-detail",
    )
    def image_delete(self, request, pk=None, image_id=None):
        image = selectors.access_listing_image(request.user, pk, image_id)
        services.listing_image_delete(image=image, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Reorder photos (the first is the cover)",
        request=s.ImageReorderInput,
        responses=s.ListingImageSerializer(many=True),
    )
    @action(
        detail=True,
        methods=["post"],
        url_path="images/reorder",
        # The answer is the listing's photos, not a page of a list.
        pagination_class=None,
        filter_backends=[],
    )
    def images_reorder(self, request, pk=None):
        listing = self._own(pk)
        form = s.ImageReorderInput(data=request.data)
        form.is_valid(raise_exception=True)
        services.listing_images_reorder(
            listing=listing,
            actor=request.user,
            image_ids=form.validated_data["image_ids"],
        )
        images = listing.images.order_by("position", "pk")
        data = s.ListingImageSerializer(
            images, many=True, context={"request": request}
        ).data
        return Response(data)


class FavouriteViewSet(ScopedGenericViewSet):
    """The caller's favourite listings."""

    serializer_class = s.FavouriteSerializer
    lookup_field = "listing_id"
    lookup_value_regex = "[0-9]+"

    def get_scoped_queryset(self, user):
        if getattr(self, "swagger_fake_view", False):
            return Favourite.objects.none()
        return selectors.favourite_list(user=user)

    @extend_schema(summary="My favourites")
    def list(self, request):
        page = self.paginate_queryset(self.get_queryset())
        data = s.FavouriteSerializer(page, many=True, context={"request": request})
        return self.get_paginated_response(data.data)

    @extend_schema(
        summary="Add a favourite",
        description="Idempotent. A listing you cannot see is a 400 naming "
        "`listing`; your own listing is a 400; a sold one a 409.",
        request=s.FavouriteInput,
        responses={
            201: s.FavouriteSerializer,
            409: OpenApiResponse(description="The listing is not active."),
        },
    )
    def create(self, request):
        form = s.FavouriteInput(data=request.data)
        form.is_valid(raise_exception=True)
        try:
            listing = selectors.access_listing(
                request.user, form.validated_data["listing"]
            )
        except NotFound as exc:
            # The URL is fine; a field of the body names nothing: 400, not 404.
            raise ValidationError(exc.message, field="listing") from None
        favourite = services.favourite_add(user=request.user, listing=listing)
        favourite = self.get_queryset().get(pk=favourite.pk)
        data = s.FavouriteSerializer(favourite, context={"request": request}).data
        return Response(data, status=status.HTTP_201_CREATED)

    @extend_schema(summary="Remove a favourite", responses={204: None})
    def destroy(self, request, listing_id=None):
        favourite = selectors.access_favourite(request.user, listing_id)
        services.favourite_remove(user=request.user, listing=favourite.listing)
        return Response(status=status.HTTP_204_NO_CONTENT)


class SavedSearchViewSet(ScopedGenericViewSet):
    """The caller's saved searches."""

    serializer_class = s.SavedSearchSerializer
    lookup_value_regex = "[0-9]+"

    def get_scoped_queryset(self, user):
        if getattr(self, "swagger_fake_view", False):
            return SavedSearch.objects.none()
        return selectors.saved_search_list(user=user)

    @extend_schema(summary="My saved searches")
    def list(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(
            s.SavedSearchSerializer(page, many=True).data
        )

    @extend_schema(
        summary="Save a search",
        description="`params` are normalised (the order is dropped) and must "
        "narrow the results: ordering alone, a point without a radius or a `q` "
        "with no searchable words (no letters or digits) is not a filter. A "
        "search without a filter is a 400 naming `params` (code `no_filter`).",
        request=s.SavedSearchInput,
        responses={
            201: s.SavedSearchSerializer,
            409: OpenApiResponse(
                description="The same search is saved already, or too many are."
            ),
        },
    )
    def create(self, request):
        form = s.SavedSearchInput(data=request.data)
        form.is_valid(raise_exception=True)
        try:
            params = parse_search_params(form.validated_data["params"])
        except ValidationError as exc:
            # The parameters sit inside `params` here: name the nested field.
            field = f"params.{exc.field}" if exc.field else "params"
            raise ValidationError(exc.message, field=field) from None
        saved = services.saved_search_create(
            user=request.user,
            name=form.validated_data["name"],
            params=params,
            frequency=form.validated_data["frequency"],
        )
        return Response(
            s.SavedSearchSerializer(saved).data, status=status.HTTP_201_CREATED
        )

    @extend_schema(
        summary="Change how often a saved search notifies",
        request=s.SavedSearchUpdateInput,
        responses=s.SavedSearchSerializer,
    )
    def partial_update(self, request, pk=None):
        saved = selectors.access_saved_search(request.user, pk)
        form = s.SavedSearchUpdateInput(data=request.data)
        form.is_valid(raise_exception=True)
        saved = services.saved_search_update(
            saved_search=saved,
            user=request.user,
            frequency=form.validated_data["frequency"],
        )
        return Response(s.SavedSearchSerializer(saved).data)

    @extend_schema(summary="Delete a saved search", responses={204: None})
    def destroy(self, request, pk=None):
        saved = selectors.access_saved_search(request.user, pk)
        services.saved_search_delete(saved_search=saved, user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
