"""Websocket authentication for API clients: `?token=<JWT access token>`.

Browser sockets are authenticated by the session (AuthMiddlewareStack); this
middleware runs after it and only fills in the user when a token is given.
"""

from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from django.contrib.auth.models import AnonymousUser


@database_sync_to_async
def _user_from_token(token: str):
    from allauth.headless.tokens.strategies.jwt.internal import validate_access_token

    payload = validate_access_token(token)
    if payload is None:
        return None
    user, _claims = payload
    return user if user.is_active else None


class TokenAuthMiddleware:
    def __init__(self, inner):
        self.inner = inner

    async def __call__(self, scope, receive, send):
        query = parse_qs(scope.get("query_string", b"").decode())
        tokens = query.get("token")
        if tokens:
            user = await _user_from_token(tokens[0])
            # A bad token never falls back to the session: it is anonymous.
            scope = dict(scope, user=user or AnonymousUser())
        return await self.inner(scope, receive, send)
