import pytest
from django.test import RequestFactory

from core.api.urls import absolute_url


@pytest.mark.parametrize(
    "url",
    [
        "/listings/12/",
        "/media/listings/2026/11/th%C3%A9.webp",
        "https://cdn.example.com/media/a.jpg",
        "//cdn.example.com/media/a.jpg",
        "media/relative.jpg",
        "/caf\u00e9/",
    ],
)
@pytest.mark.parametrize("secure", [False, True])
def test_absolute_url_is_what_build_absolute_uri_gives(url, secure, settings):
    settings.ALLOWED_HOSTS = ["shop.example.com"]
    request = RequestFactory().get(
        "/api/v1/listings/", HTTP_HOST="shop.example.com:8443", secure=secure
    )
    expected = request.build_absolute_uri(url)
    assert absolute_url(request, url) == expected
    assert absolute_url(request, url) == expected  # the root read once is reused


def test_absolute_url_without_a_request_is_the_url():
    assert absolute_url(None, "/listings/1/") == "/listings/1/"
