"""/api/v1/: each app contributes its own routes from `<app>/api/urls.py`."""

from django.urls import include, path

from core.api.views import api_root

urlpatterns = [
    path("", api_root, name="api_root"),
    # Listings first: the public reads most requests are (see marketplace/urls.py).
    path("", include("listings.api.urls")),
    path("", include("accounts.api.urls")),
    path("", include("accounts.api.urls_notifications")),
    path("", include("chat.api.urls")),
    path("", include("deals.api.urls")),
    path("", include("wallet.api.urls")),
]
