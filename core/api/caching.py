"""HTTP caching of the public API reads.

An anonymous read of public data (listing search and detail, categories) is
the same for every anonymous caller, so a shared cache (the edge proxy's
micro-cache, deploy/nginx.conf.template) may keep it for a few seconds:

    Cache-Control: public, max-age=API_PUBLIC_CACHE_SECONDS,
                   stale-while-revalidate=API_PUBLIC_CACHE_STALE_SECONDS

Every other answer of those views (a caller with a token or a session, an
error, the browsable HTML API) is `private, no-cache`, so an owner who has
just changed a listing always gets it fresh from Django. Views that do not
use the mixin send no Cache-Control, which the proxy does not cache either.
"""

from django.conf import settings
from django.utils.cache import patch_cache_control, patch_vary_headers

_READ_METHODS = frozenset({"GET", "HEAD"})


class PublicReadCacheMixin:
    """For API viewsets whose `public_cache_actions` answer every anonymous
    caller alike. Put it before the viewset base class."""

    public_cache_actions: tuple[str, ...] = ("list", "retrieve")

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if self._is_public_read(request, response):
            patch_cache_control(
                response,
                public=True,
                max_age=settings.API_PUBLIC_CACHE_SECONDS,
                stale_while_revalidate=settings.API_PUBLIC_CACHE_STALE_SECONDS,
            )
        else:
            patch_cache_control(response, private=True, no_cache=True)
        # The answer depends on the caller's credentials: no shared cache may
        # hand the anonymous copy to a caller with a token (SessionMiddleware
        # adds `Cookie` for the session, DRF `Accept` for the renderers).
        patch_vary_headers(response, ("Authorization",))
        return response

    def _is_public_read(self, request, response) -> bool:
        renderer = getattr(response, "accepted_renderer", None)
        return (
            settings.API_PUBLIC_CACHE_SECONDS > 0
            and request.method in _READ_METHODS
            and getattr(self, "action", None) in self.public_cache_actions
            and response.status_code == 200
            # The browsable API's HTML carries a CSRF token and the user's
            # name: never shared.
            and getattr(renderer, "format", None) == "json"
            and not request.user.is_authenticated
        )
