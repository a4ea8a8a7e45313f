"""core.api.negotiation.ContentNegotiation chooses as DRF's does."""

import pytest
from rest_framework.exceptions import NotAcceptable
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from core.api.negotiation import ContentNegotiation

_RENDERERS = [JSONRenderer(), BrowsableAPIRenderer()]
_LONG = "text/plain;q=0.1," * 600 + "application/json"


def _choose(negotiation, accept, path="/api/v1/listings/"):
    extra = {} if accept is None else {"HTTP_ACCEPT": accept}
    request = Request(APIRequestFactory().get(path, **extra))
    try:
        renderer, media_type = negotiation.select_renderer(request, _RENDERERS)
    except NotAcceptable:
        return "406", request
    return (type(renderer).__name__, media_type), request


@pytest.mark.parametrize(
    "accept",
    [
        None,
        "",
        "application/json",
        "*/*",
        "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
        "application/json; indent=4",
        "application/*",
        "application/xml",
        " , ,application/json",
        "x" * 300 + ",application/json",
        _LONG,
        ",".join(["image/png"] * 100 + ["application/json"]),
    ],
)
@pytest.mark.parametrize("path", ["/api/v1/listings/", "/api/v1/listings/?format=api"])
def test_chooses_what_drf_chooses(accept, path):
    expected, _ = _choose(DefaultContentNegotiation(), accept, path)
    got, request = _choose(ContentNegotiation(), accept, path)
    assert got == expected
    # The point of it: Django's request.headers was never built.
    assert "headers" not in request._request.__dict__


def test_is_the_api_default(settings):
    from rest_framework.settings import api_settings

    assert api_settings.DEFAULT_CONTENT_NEGOTIATION_CLASS is ContentNegotiation
