"""Input and output serializers of the accounts API. They never write."""

import math

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import User
from accounts.roles import Role, role_of
from core.api.urls import absolute_url


def _absolute_url(serializer, field_file) -> str | None:
    if not field_file:
        return None
    url = field_file.url
    request = serializer.context.get("request")
    return absolute_url(request, url)


class _LocationOutputMixin(serializers.Serializer):
    lat = serializers.SerializerMethodField()
    lng = serializers.SerializerMethodField()

    @extend_schema_field(serializers.FloatField(allow_null=True))
    def get_lat(self, user) -> float | None:
        return user.home_location.y if user.home_location else None

    @extend_schema_field(serializers.FloatField(allow_null=True))
    def get_lng(self, user) -> float | None:
        return user.home_location.x if user.home_location else None


class MeSerializer(_LocationOutputMixin, serializers.ModelSerializer):
    """The caller's own profile, private fields included."""

    avatar_url = serializers.SerializerMethodField()
    role = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = [
            "id",
            "email",
            "display_name",
            "phone",
            "city",
            "bio",
            "lat",
            "lng",
            "avatar_url",
            "is_verified",
            "role",
            "date_joined",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_avatar_url(self, user) -> str | None:
        return _absolute_url(self, user.avatar)

    @extend_schema_field(serializers.ChoiceField(choices=Role.choices))
    def get_role(self, user) -> str:
        return str(role_of(user))


class PublicUserSerializer(serializers.ModelSerializer):
    """What anyone may see of a user: never e-mail, phone or location."""

    display_name = serializers.CharField(source="public_name")
    member_since = serializers.DateTimeField(source="date_joined")
    avatar_url = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = [
            "id",
            "display_name",
            "city",
            "member_since",
            "is_verified",
            "avatar_url",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_avatar_url(self, user) -> str | None:
        return _absolute_url(self, user.avatar)


class AdminUserSerializer(MeSerializer):
    """A user as moderators see them."""

    class Meta(MeSerializer.Meta):
        fields = [
            *MeSerializer.Meta.fields,
            "is_active",
            "is_staff",
            "last_login",
        ]
        read_only_fields = fields


class ProfileUpdateInput(serializers.Serializer):
    """PATCH /me/: any of these; `lat` and `lng` go together (both null clears)."""

    display_name = serializers.CharField(max_length=80, allow_blank=True)
    phone = serializers.CharField(
        max_length=32,
        allow_blank=True,
        help_text="Any common notation; stored in E.164, e.g. +77012345678.",
    )
    city = serializers.CharField(max_length=80, allow_blank=True)
    bio = serializers.CharField(max_length=2000, allow_blank=True)
    lat = serializers.FloatField(min_value=-90, max_value=90, allow_null=True)
    lng = serializers.FloatField(min_value=-180, max_value=180, allow_null=True)

    def validate(self, attrs):
        has_lat, has_lng = "lat" in attrs, "lng" in attrs
        if has_lat != has_lng:
            missing = "lng" if has_lat else "lat"
            raise serializers.ValidationError(
                {missing: "Send lat and lng together (both null to clear)."}
            )
        if has_lat:
            lat, lng = attrs["lat"], attrs["lng"]
            if (lat is None) != (lng is None):
                raise serializers.ValidationError(
                    {"lat": "Send both coordinates, or both as null to clear."}
                )
            for name in ("lat", "lng"):
                if attrs[name] is not None and not math.isfinite(attrs[name]):
                    raise serializers.ValidationError({name: "Enter a finite number."})
        if not attrs:
            raise serializers.ValidationError("Send at least one field to change.")
        return attrs


class AvatarInput(serializers.Serializer):
    avatar = serializers.FileField(
        help_text="JPEG, PNG or WebP; stored as a 256x256 JPEG without metadata."
    )


class AdminUserUpdateInput(serializers.Serializer):
    """PATCH /admin/users/{id}/: change role, ban or unban, verified badge."""

    role = serializers.ChoiceField(choices=Role.choices)
    is_active = serializers.BooleanField(help_text="false bans the user, true unbans.")
    is_verified = serializers.BooleanField()
    reason = serializers.CharField(
        max_length=1000,
        allow_blank=True,
        help_text="Why; required for a ban, recorded in the audit log.",
    )

    def validate(self, attrs):
        if not {"role", "is_active", "is_verified"} & attrs.keys():
            raise serializers.ValidationError(
                "Send at least one of role, is_active, is_verified."
            )
        return attrs
