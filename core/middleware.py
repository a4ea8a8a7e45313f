import ipaddress

from django.conf import settings
from django.core.exceptions import MiddlewareNotUsed

from core.views import healthz


class HealthCheckMiddleware:
    """Answer `/healthz` before host validation and the HTTPS redirect.

    Load balancers and container health checks call a backend directly, over
    plain HTTP and with its internal address as Host. Neither is in
    ALLOWED_HOSTS nor behind the TLS proxy, and the probe must still get an
    honest answer rather than a 400 or a redirect.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info == "/healthz":
            return healthz(request)
        return self.get_response(request)


class ClientAddressMiddleware:
    """Behind proxies, set REMOTE_ADDR to the client's address.

    Each of the TRUSTED_PROXY_COUNT proxies in front adds the address it saw
    to X-Forwarded-For, so the client's address is the entry that many places
    from the right; entries further left came from the client and prove
    nothing. Everything that needs the client's address (allauth's login rate
    limits and session list, counting anonymous listing views) reads
    REMOTE_ADDR. With a count of 0 the middleware is not installed and
    REMOTE_ADDR stays the connection's peer.
    """

    def __init__(self, get_response):
        self.count = settings.TRUSTED_PROXY_COUNT
        if self.count == 0:
            raise MiddlewareNotUsed
        self.get_response = get_response

    def __call__(self, request):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            entries = [entry.strip() for entry in forwarded.split(",")]
            address = entries[-min(self.count, len(entries))]
            try:
                ipaddress.ip_address(address)
            except ValueError:
                pass  # not an address: keep the peer's
            else:
                request.META["REMOTE_ADDR"] = address
        return self.get_response(request)
