"""Accounts API: own profile and avatar, public profiles, user moderation.

Adapters only: validate input, call a selector or service, serialize.
"""

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import generics, mixins, parsers, permissions, status, viewsets
from rest_framework.response import Response

from accounts import selectors, services
from accounts.api.filters import AdminUserFilter
from accounts.api.permissions import HasScope, IsStaff
from accounts.api.serializers import (
    AdminUserSerializer,
    AdminUserUpdateInput,
    AvatarInput,
    MeSerializer,
    ProfileUpdateInput,
    PublicUserSerializer,
)
from accounts.scopes import ADMIN, WRITE
from core.api.views import ScopedViewSetMixin

ERRORS = {
    400: OpenApiResponse(description="Invalid input; `errors` names the fields."),
    401: OpenApiResponse(description="No, invalid or expired access token."),
    403: OpenApiResponse(description="Not allowed, or the token lacks a scope."),
}


def _current_profile(user) -> dict:
    location = None
    if user.home_location:
        location = (user.home_location.y, user.home_location.x)
    return {
        "display_name": user.display_name,
        "phone": user.phone,
        "city": user.city,
        "bio": user.bio,
        "location": location,
    }


class MeView(generics.GenericAPIView):
    """The caller's own profile."""

    permission_classes = [permissions.IsAuthenticated, HasScope]
    serializer_class = MeSerializer

    @extend_schema(
        summary="Your profile",
        responses={200: MeSerializer, 401: ERRORS[401], 403: ERRORS[403]},
    )
    def get(self, request):
        return Response(MeSerializer(request.user, context={"request": request}).data)

    @extend_schema(
        summary="Change your profile",
        description=(
            "Send only the fields to change. `phone` is normalised to E.164. "
            "The home location is two numbers, `lat` and `lng`, sent together; "
            "both null removes it."
        ),
        request=ProfileUpdateInput,
        responses={200: MeSerializer, **ERRORS},
    )
    def patch(self, request):
        payload = ProfileUpdateInput(data=request.data, partial=True)
        payload.is_valid(raise_exception=True)
        changes = dict(payload.validated_data)
        values = _current_profile(request.user)
        if "lat" in changes:
            lat, lng = changes.pop("lat"), changes.pop("lng")
            values["location"] = None if lat is None else (lat, lng)
        values.update(changes)
        user = services.user_profile_update(user=request.user, **values)
        return Response(MeSerializer(user, context={"request": request}).data)


class MeAvatarView(generics.GenericAPIView):
    """The caller's avatar: upload (multipart) or remove."""

    permission_classes = [permissions.IsAuthenticated, HasScope]
    parser_classes = [parsers.MultiPartParser, parsers.FormParser]
    serializer_class = AvatarInput

    @extend_schema(
        summary="Upload your avatar",
        description=(
            "multipart/form-data with an `avatar` file (JPEG, PNG or WebP). The "
            "image is checked, turned upright, cropped to a 256x256 square and "
            "re-encoded without metadata (no EXIF/GPS). Replaces the old one."
        ),
        request={"multipart/form-data": AvatarInput},
        responses={200: MeSerializer, **ERRORS},
    )
    def put(self, request):
        payload = AvatarInput(data=request.data)
        payload.is_valid(raise_exception=True)
        user = services.user_avatar_set(
            user=request.user, upload=payload.validated_data["avatar"]
        )
        return Response(MeSerializer(user, context={"request": request}).data)

    @extend_schema(
        summary="Upload your avatar (same as PUT)",
        request={"multipart/form-data": AvatarInput},
        responses={200: MeSerializer, **ERRORS},
    )
    def post(self, request):
        return self.put(request)

    @extend_schema(
        summary="Remove your avatar",
        request=None,
        responses={204: None, 401: ERRORS[401], 403: ERRORS[403]},
    )
    def delete(self, request):
        services.user_avatar_delete(user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class PublicUserView(generics.GenericAPIView):
    """A user's public profile."""

    permission_classes = [permissions.AllowAny]
    serializer_class = PublicUserSerializer

    @extend_schema(
        summary="A user's public profile",
        description="Public fields only. Banned and unknown users are 404.",
        responses={
            200: PublicUserSerializer,
            404: OpenApiResponse(description="No such (active) user."),
        },
    )
    def get(self, request, pk):
        user = selectors.user_public_get(pk=pk)
        return Response(PublicUserSerializer(user, context={"request": request}).data)


@extend_schema_view(
    list=extend_schema(
        summary="Users (moderators and admins)",
        description="Needs the `admin` scope and a staff account.",
    ),
    retrieve=extend_schema(summary="One user (moderators and admins)"),
    partial_update=extend_schema(
        summary="Change a user's role, ban or unban, verified badge",
        description=(
            "Role changes are for admins only; moderators can ban, unban and "
            "verify plain users. A ban needs a `reason`. Every change is "
            "recorded in the audit log; a ban ends all the user's sessions."
        ),
        request=AdminUserUpdateInput,
        responses={
            200: AdminUserSerializer,
            **ERRORS,
            404: OpenApiResponse(description="No such user."),
            409: OpenApiResponse(description="E.g. you cannot ban yourself."),
        },
    ),
)
class AdminUserViewSet(
    ScopedViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    permission_classes = [permissions.IsAuthenticated, IsStaff, HasScope]
    serializer_class = AdminUserSerializer
    filterset_class = AdminUserFilter
    http_method_names = ["get", "patch", "head", "options"]

    @property
    def required_scopes(self):
        if self.request.method in permissions.SAFE_METHODS:
            return [ADMIN]
        return [ADMIN, WRITE]

    def get_scoped_queryset(self, user):
        return selectors.user_list_for_staff(viewer=user)

    def partial_update(self, request, pk=None):
        target = self.get_object()
        payload = AdminUserUpdateInput(data=request.data, partial=True)
        payload.is_valid(raise_exception=True)
        user = services.user_moderate(
            actor=request.user, user=target, **payload.validated_data
        )
        user = selectors.access_user(request.user, user.pk)
        return Response(AdminUserSerializer(user, context={"request": request}).data)
