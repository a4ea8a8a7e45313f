import ipaddress

from django.conf import settings
from django.conf.urls.i18n import is_language_prefix_patterns_used
from django.contrib.messages import middleware as messages_middleware
from django.contrib.messages.storage import default_storage
from django.core.exceptions import MiddlewareNotUsed
from django.middleware import locale
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django.utils.functional import SimpleLazyObject, empty

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


class LocaleMiddleware(locale.LocaleMiddleware):
    """Django's, without the language-in-the-path lookups our URLs never use.

    Django's reads a language code from the path's first segment twice per
    request, even without `i18n_patterns`, where it then ignores it. For a
    segment that is no language ("api", "listings") the lookup walks all of
    LANGUAGES and is not cached (lru_cache keeps no LookupError): ~20 us a
    request. With `i18n_patterns` in the URLconf, Django's code runs as is.
    """

    def process_request(self, request):
        if self._uses_language_prefixes(request):
            return super().process_request(request)
        translation.activate(translation.get_language_from_request(request))
        request.LANGUAGE_CODE = translation.get_language()

    def process_response(self, request, response):
        if self._uses_language_prefixes(request):
            return super().process_response(request, response)
        patch_vary_headers(response, ("Accept-Language",))
        response.headers.setdefault("Content-Language", translation.get_language())
        return response

    @staticmethod
    def _uses_language_prefixes(request) -> bool:
        urlconf = getattr(request, "urlconf", settings.ROOT_URLCONF)
        return is_language_prefix_patterns_used(urlconf)[0]


class MessageMiddleware(messages_middleware.MessageMiddleware):
    """Django's, with the message storage made when first used.

    Django's makes it for every request: a cookie storage with its signer
    (a key derived from SECRET_KEY) and a session storage. The API and most
    pages never touch it. Untouched, it has nothing to store either: Django's
    `update` writes only messages that were added or read."""

    def process_request(self, request):
        request._messages = SimpleLazyObject(lambda: default_storage(request))

    def process_response(self, request, response):
        messages = getattr(request, "_messages", None)
        if isinstance(messages, SimpleLazyObject) and messages._wrapped is empty:
            return response
        return super().process_response(request, response)
