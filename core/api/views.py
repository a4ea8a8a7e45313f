from drf_spectacular.utils import extend_schema
from rest_framework import permissions, viewsets
from rest_framework.decorators import api_view, permission_classes
from rest_framework.response import Response
from rest_framework.reverse import reverse


@extend_schema(exclude=True)
@api_view(["GET"])
@permission_classes([permissions.AllowAny])
def api_root(request, format=None):
    """Entry point of the versioned API: where things are."""
    return Response(
        {
            "version": "v1",
            "schema": reverse("api_schema", request=request),
            "docs": reverse("api_docs", request=request),
            "redoc": reverse("api_redoc", request=request),
            "auth": request.build_absolute_uri("/_allauth/app/v1/"),
            "me": reverse("api_me", request=request),
        }
    )


class ScopedViewSetMixin:
    """Base for API viewsets: authentication always applies, and every queryset
    goes through `get_scoped_queryset(user)`, so a view cannot forget to limit
    rows to what the caller may see."""

    permission_classes = [permissions.IsAuthenticated]

    def get_scoped_queryset(self, user):
        raise NotImplementedError

    def get_queryset(self):
        return self.get_scoped_queryset(self.request.user)


class ScopedGenericViewSet(ScopedViewSetMixin, viewsets.GenericViewSet):
    pass
