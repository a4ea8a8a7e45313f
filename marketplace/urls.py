from allauth.account.decorators import secure_admin_login
from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerView,
)

from core import views as core_views
from listings import views as listings_views

# The admin login goes through allauth, so its rate limits and 2FA apply there.
admin.site.login = secure_admin_login(admin.site.login)
admin.site.site_header = f"{settings.SITE_NAME} moderation"
admin.site.site_title = f"{settings.SITE_NAME} admin"

urlpatterns = [
    path("", listings_views.home, name="home"),
    path("healthz", core_views.healthz, name="healthz"),
    path("robots.txt", core_views.robots_txt, name="robots_txt"),
    # The API first: Django tries patterns in order, and every `""` include
    # below is walked pattern by pattern before a later prefix is reached
    # (3/4 of resolving an API path). No page pattern can match under
    # `api/v1/` (core/tests/test_urls.py), so the order changes no answer.
    path("api/v1/", include("marketplace.api_urls")),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("_allauth/", include("allauth.headless.urls")),
    path("", include("accounts.urls")),
    path("", include("listings.urls")),
    path("", include("chat.urls")),
    path("", include("deals.urls")),
    path("", include("wallet.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api_schema"),
    path(
        "api/docs/",
        SpectacularSwaggerView.as_view(url_name="api_schema"),
        name="api_docs",
    ),
    path(
        "api/redoc/",
        SpectacularRedocView.as_view(url_name="api_schema"),
        name="api_redoc",
    ),
]

if settings.DEBUG or not settings.AWS_STORAGE_BUCKET_NAME:
    # Media on local disk: served by Django (behind a proxy cache in production
    # deployments that keep files on disk).
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
    if not settings.DEBUG:
        from django.urls import re_path
        from django.views.static import serve

        urlpatterns += [
            re_path(
                rf"^{settings.MEDIA_URL.lstrip('/')}(?P<path>.*)$",
                serve,
                {"document_root": settings.MEDIA_ROOT},
            )
        ]

handler400 = "core.views.bad_request"
handler404 = "core.views.page_not_found"
handler500 = "core.views.server_error"
