"""core.middleware.LocaleMiddleware answers as Django's LocaleMiddleware."""

import pytest
from django.http import HttpResponse, HttpResponseNotFound
from django.middleware.locale import LocaleMiddleware as DjangoLocaleMiddleware
from django.test import RequestFactory
from django.utils import translation

from core.middleware import LocaleMiddleware


def _answer(middleware_class, request, response):
    """(active language in the view, response headers) through the middleware."""
    seen = []

    def view(request):
        seen.append((translation.get_language(), request.LANGUAGE_CODE))
        return response

    with translation.override(None):
        answer = middleware_class(view)(request)
    return seen, dict(answer.headers)


@pytest.mark.parametrize(
    ("path", "headers"),
    [
        ("/api/v1/listings/12/", {}),
        ("/api/v1/listings/12/", {"HTTP_ACCEPT_LANGUAGE": "de-AT,de;q=0.9"}),
        ("/ru/listings/12/", {"HTTP_ACCEPT_LANGUAGE": "fr"}),
        ("/listings/", {"HTTP_COOKIE": "django_language=kk"}),
        ("/de/", {"HTTP_ACCEPT_LANGUAGE": "xx"}),
    ],
)
@pytest.mark.parametrize("status", [200, 404])
def test_same_language_and_headers_as_djangos(path, headers, status):
    response_class = HttpResponse if status == 200 else HttpResponseNotFound
    expected = _answer(
        DjangoLocaleMiddleware, RequestFactory().get(path, **headers), response_class()
    )
    got = _answer(
        LocaleMiddleware, RequestFactory().get(path, **headers), response_class()
    )
    assert got == expected
    assert "Accept-Language" in got[1]["Vary"]


def test_with_language_prefixes_in_the_urlconf_djangos_code_runs(settings, monkeypatch):
    calls = []
    real = translation.get_language_from_path

    def spy(path, *args, **kwargs):
        calls.append(path)
        return real(path, *args, **kwargs)

    monkeypatch.setattr(translation, "get_language_from_path", spy)
    request = RequestFactory().get("/de/listings/")
    request.urlconf = "core.tests.i18n_urls"
    LocaleMiddleware(lambda request: HttpResponse())(request)
    assert calls == ["/de/listings/", "/de/listings/"]

    calls.clear()
    LocaleMiddleware(lambda request: HttpResponse())(RequestFactory().get("/de/"))
    assert calls == []  # the project's URLconf: no language prefixes
