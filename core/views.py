import logging

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

logger = logging.getLogger(__name__)


@never_cache
@require_GET
def healthz(request):
    """Liveness and readiness: the database and, in production, Redis answer."""
    checks = {}
    healthy = True
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception:  # any failure means "not ready"; say which part
        logger.exception("healthz: database check failed")
        checks["database"] = "error"
        healthy = False
    if settings.REDIS_URL:
        try:
            cache.set("healthz", "1", 5)
            checks["redis"] = "ok" if cache.get("healthz") == "1" else "error"
        except Exception:
            logger.exception("healthz: redis check failed")
            checks["redis"] = "error"
        healthy = healthy and checks["redis"] == "ok"
    return JsonResponse(
        {"status": "ok" if healthy else "error", "checks": checks},
        status=200 if healthy else 503,
    )


@require_GET
def robots_txt(request):
    lines = [
        "User-agent: *",
        "Disallow: /admin/",
        "Disallow: /accounts/",
        "Disallow: /api/",
        "Disallow: /_allauth/",
        "Disallow: /messages/",
        "Disallow: /wallet/",
        f"Sitemap: {settings.SITE_URL}/sitemap.xml",
    ]
    return HttpResponse("\n".join(lines) + "\n", content_type="text/plain")


def _is_api(request) -> bool:
    return request.path.startswith("/api/")


def _api_error(detail: str, code: str, status: int) -> JsonResponse:
    # The shape of core.api.exceptions, for errors raised before DRF runs.
    return JsonResponse({"detail": detail, "code": code, "errors": {}}, status=status)


def bad_request(request, exception):
    if _is_api(request):
        return _api_error("Bad request.", "bad_request", 400)
    return render(request, "400.html", status=400)


def page_not_found(request, exception):
    if _is_api(request):
        # A path no API route matches (e.g. /api/v1/listings/abc/): JSON, as
        # the API's own 404s are, not the HTML page.
        return _api_error("Not found.", "not_found", 404)
    return render(request, "404.html", status=404)


def server_error(request):
    if _is_api(request):
        return _api_error("Server error; we have been told.", "server_error", 500)
    # No context processors beyond the bare request: the database may be down.
    return render(request, "500.html", status=500)
