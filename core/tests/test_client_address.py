"""ClientAddressMiddleware: behind the edge proxy, REMOTE_ADDR is the client's
address from X-Forwarded-For, counted from the right; never an address the
client wrote itself."""

import pytest
from django.core.exceptions import MiddlewareNotUsed
from django.test import RequestFactory

from core.middleware import ClientAddressMiddleware
from listings.models import ListingView
from listings.tests.factories import ListingFactory


def address_seen(settings, count: int, forwarded: str | None) -> str:
    settings.TRUSTED_PROXY_COUNT = count
    middleware = ClientAddressMiddleware(lambda request: request.META["REMOTE_ADDR"])
    headers = {} if forwarded is None else {"HTTP_X_FORWARDED_FOR": forwarded}
    return middleware(RequestFactory().get("/", REMOTE_ADDR="10.0.0.9", **headers))


@pytest.mark.parametrize(
    ("count", "forwarded", "expected"),
    [
        (1, "203.0.113.5", "203.0.113.5"),
        # The client sent its own header; the proxy appended what it saw.
        (1, "198.51.100.1, 203.0.113.5", "203.0.113.5"),
        (1, "2001:db8::7", "2001:db8::7"),
        # A load balancer and the edge proxy.
        (2, "198.51.100.1, 203.0.113.5, 10.0.0.2", "203.0.113.5"),
        # Fewer entries than proxies: the leftmost is the best there is.
        (2, "203.0.113.5", "203.0.113.5"),
        # Not an address, or no header (a health probe): the peer.
        (1, "unknown", "10.0.0.9"),
        (1, "203.0.113.5:4711", "10.0.0.9"),
        (1, None, "10.0.0.9"),
    ],
)
def test_the_client_address_is_counted_from_the_right(
    settings, count, forwarded, expected
):
    assert address_seen(settings, count, forwarded) == expected


def test_without_proxies_the_middleware_is_not_installed(settings):
    settings.TRUSTED_PROXY_COUNT = 0

    with pytest.raises(MiddlewareNotUsed):
        ClientAddressMiddleware(lambda request: None)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("count", "views"),
    [
        # Behind one proxy: each client address is a visitor.
        (1, 2),
        # No proxy: the header is the client's own word and changes nothing.
        (0, 1),
    ],
)
def test_anonymous_visitors_are_told_apart_by_address(client, settings, count, views):
    # Given a listing nobody has viewed
    settings.TRUSTED_PROXY_COUNT = count
    listing = ListingFactory()

    # When two anonymous addresses (one peer: the proxy) open it, one twice
    for address in ("203.0.113.5", "203.0.113.5", "198.51.100.1"):
        response = client.get(f"/listings/{listing.pk}/", HTTP_X_FORWARDED_FOR=address)
        assert response.status_code == 200

    # Then the views counted
    assert ListingView.objects.filter(listing=listing).count() == views


def test_api_throttles_know_clients_by_remote_addr_only():
    # DRF's default trusts any X-Forwarded-For; the address the middleware
    # sets (or the peer's) is the one to count.
    from rest_framework.request import Request
    from rest_framework.throttling import AnonRateThrottle

    request = RequestFactory().get(
        "/", REMOTE_ADDR="10.0.0.9", HTTP_X_FORWARDED_FOR="198.51.100.1"
    )

    assert AnonRateThrottle().get_ident(Request(request)) == "10.0.0.9"
