"""`Authorization: Bearer <access token>` for the API, from allauth headless."""

from allauth.headless.contrib.rest_framework.authentication import (
    JWTTokenAuthentication,
)
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.exceptions import AuthenticationFailed


class JWTAccessTokenAuthentication(JWTTokenAuthentication):
    """allauth's JWT access tokens, with messages a client developer can act on.

    `request.auth` is the token's claims (a dict), which `HasScope` reads.
    A token stops working when it expires, when its session ends (log out,
    "end all sessions", a ban) or when the user is deactivated.
    """

    def authenticate(self, request):
        # Without the header DRF's finds no credentials either, but reads them
        # through request.headers, which Django builds from all of META
        # (with core/api/negotiation.py: ~15 us an anonymous request).
        if "HTTP_AUTHORIZATION" not in request.META:
            return None
        return super().authenticate(request)

    def authenticate_credentials(self, key: str):
        try:
            return super().authenticate_credentials(key)
        except AuthenticationFailed as exc:
            raise AuthenticationFailed(
                "Invalid or expired access token. Get a new one from "
                "/_allauth/app/v1/tokens/refresh or log in again.",
                code="invalid_token",
            ) from exc


class JWTAccessTokenScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.api.authentication.JWTAccessTokenAuthentication"
    name = "jwtAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
