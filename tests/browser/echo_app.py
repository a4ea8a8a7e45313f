"""The project's HTTP app plus a websocket echo at /ws/echo/ (harness tests).

The echo answers with who the socket's session belongs to, so a test can see
that cookies set in the browser authenticate websockets on the ASGI server.
"""

from channels.auth import AuthMiddlewareStack
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from channels.routing import ProtocolTypeRouter, URLRouter
from channels.security.websocket import AllowedHostsOriginValidator
from django.core.asgi import get_asgi_application
from django.urls import path


class EchoConsumer(AsyncJsonWebsocketConsumer):
    async def receive_json(self, content, **kwargs):
        user = self.scope["user"]
        await self.send_json(
            {"echo": content, "user": user.email if user.is_authenticated else None}
        )


application = ProtocolTypeRouter(
    {
        "http": get_asgi_application(),
        "websocket": AllowedHostsOriginValidator(
            AuthMiddlewareStack(URLRouter([path("ws/echo/", EchoConsumer.as_asgi())]))
        ),
    }
)
