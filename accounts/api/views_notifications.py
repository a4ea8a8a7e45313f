"""API for the caller's own notifications and e-mail preferences."""

import django_filters
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts import services_notifications as services
from accounts.api.serializers_notifications import (
    NotificationPreferencesInput,
    NotificationPreferencesSerializer,
    NotificationReadAllSerializer,
    NotificationSerializer,
    NotificationUnreadCountSerializer,
)
from accounts.models import Notification
from accounts.selectors_notifications import (
    notification_list,
    notification_preferences_get,
    notification_unread_count,
)
from core.api.filters import BooleanFilter
from core.api.views import ScopedViewSetMixin

TAG = "notifications"


class NotificationFilter(django_filters.FilterSet):
    is_read = BooleanFilter(
        field_name="read_at",
        lookup_expr="isnull",
        exclude=True,
        label="true: only read ones; false: only unread ones.",
    )

    class Meta:
        model = Notification
        fields = ["kind", "is_read"]


@extend_schema_view(
    list=extend_schema(
        tags=[TAG],
        summary="List my notifications",
        description="The caller's notifications, newest first, paginated.",
    ),
    retrieve=extend_schema(
        tags=[TAG],
        summary="Get one of my notifications",
        description="Another user's notification answers 404.",
    ),
)
class NotificationViewSet(
    ScopedViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    queryset = Notification.objects.none()  # for the schema; rows are scoped
    serializer_class = NotificationSerializer
    filterset_class = NotificationFilter
    lookup_value_regex = r"\d+"

    def get_scoped_queryset(self, user):
        return notification_list(user=user)

    @extend_schema(
        tags=[TAG],
        summary="Mark one notification read",
        description="Idempotent. Another user's notification answers 404.",
        request=None,
        responses={200: NotificationSerializer},
        parameters=[OpenApiParameter("id", int, OpenApiParameter.PATH)],
    )
    @action(detail=True, methods=["post"])
    def read(self, request, pk=None):
        notification = services.notification_mark_read(user=request.user, pk=pk)
        return Response(NotificationSerializer(notification).data)

    @extend_schema(
        tags=[TAG],
        summary="Mark all my notifications read",
        request=None,
        responses={200: NotificationReadAllSerializer},
    )
    @action(
        detail=False,
        methods=["post"],
        url_path="read-all",
        filter_backends=[],
        pagination_class=None,
    )
    def read_all(self, request):
        count = services.notification_mark_all_read(user=request.user)
        return Response(NotificationReadAllSerializer({"marked_read": count}).data)

    @extend_schema(
        tags=[TAG],
        summary="Count my unread notifications",
        description="Cheap (one COUNT query): for refreshing the bell badge.",
        responses={200: NotificationUnreadCountSerializer},
    )
    @action(
        detail=False,
        methods=["get"],
        url_path="unread-count",
        filter_backends=[],
        pagination_class=None,
    )
    def unread_count(self, request):
        count = notification_unread_count(user=request.user)
        return Response(NotificationUnreadCountSerializer({"unread": count}).data)

    @extend_schema(
        methods=["GET"],
        tags=[TAG],
        summary="Get my e-mail preferences",
        description=(
            "For every notification kind: `instant` (e-mailed right away), "
            "`daily` (one digest e-mail a day) or `off`. `system` cannot be off."
        ),
        responses={200: NotificationPreferencesSerializer},
    )
    @extend_schema(
        methods=["PUT"],
        tags=[TAG],
        summary="Change my e-mail preferences",
        description=(
            "Send the kinds to change; kinds left out keep their frequency. "
            "Answers with all preferences."
        ),
        request=NotificationPreferencesInput,
        responses={200: NotificationPreferencesSerializer},
    )
    @action(
        detail=False,
        methods=["get", "put"],
        filter_backends=[],
        pagination_class=None,
    )
    def preferences(self, request):
        if request.method == "PUT":
            data = NotificationPreferencesInput(data=request.data)
            data.is_valid(raise_exception=True)
            prefs = services.notification_preferences_update(
                user=request.user, frequencies=data.validated_data
            )
        else:
            prefs = notification_preferences_get(user=request.user)
        return Response(
            NotificationPreferencesSerializer(prefs).data, status=status.HTTP_200_OK
        )
