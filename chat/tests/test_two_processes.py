"""Two daphne processes on one Redis: a message sent through one reaches a
socket connected to the other (channels-redis does the fan-out)."""

import asyncio
import json
import urllib.request

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client

from chat.models import Message
from chat.tests.live import LiveServer, server_env

CSRF = "k" * 32  # any well-formed token: cookie and header must match

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def _database_url() -> str:
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    host = f"{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
    return f"postgis://{auth}@{host}/{db['NAME']}"


def _session(user) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


@pytest.fixture
def two_servers(tmp_path):
    env = server_env(
        DATABASE_URL=_database_url(),
        REDIS_URL=settings.REDIS_URL,
        CHANNELS_PREFIX=settings.CHANNEL_LAYERS["default"]["CONFIG"]["prefix"],
        CELERY_TASK_ALWAYS_EAGER="true",
    )
    servers = [
        LiveServer(env=env, log_path=tmp_path / f"daphne{i}.log") for i in (1, 2)
    ]
    try:
        for server in servers:
            server.wait_ready()
        yield servers
    finally:
        for server in servers:
            server.stop()


async def _connect(server, path, session):
    from websockets.asyncio.client import connect

    return await connect(
        server.ws_url + path,
        origin=server.url,
        additional_headers={"Cookie": f"sessionid={session}"},
        open_timeout=10,
    )


async def _next(ws, frame_type, timeout=10):
    async with asyncio.timeout(timeout):
        while True:
            frame = json.loads(await ws.recv())
            if frame["type"] == frame_type:
                return frame


def test_message_crosses_processes(two_servers, conversation, buyer, seller):
    server_a, server_b = two_servers
    buyer_session, seller_session = _session(buyer), _session(seller)
    path = f"/ws/chat/{conversation.pk}/"

    async def scenario():
        seller_ws = await _connect(server_a, path, seller_session)
        seller_badge = await _connect(server_a, "/ws/user/", seller_session)
        buyer_ws = await _connect(server_b, path, buyer_session)
        try:
            await _next(seller_ws, "hello")
            await _next(buyer_ws, "hello")
            assert (await _next(seller_badge, "unread"))["total"] == 1

            # Socket on B -> socket on A.
            await buyer_ws.send(
                json.dumps(
                    {"type": "message.send", "text": "via B", "client_id": "x-1"}
                )
            )
            over_socket = await _next(seller_ws, "message.new")
            badge = await _next(seller_badge, "unread")

            # Typing on A -> socket on B.
            await seller_ws.send(json.dumps({"type": "typing"}))
            typing = await _next(buyer_ws, "typing")

            # A page/API post on B -> socket on A.
            def post():
                request = urllib.request.Request(  # noqa: S310
                    server_b.url + f"/api/v1/conversations/{conversation.pk}/messages/",
                    data=json.dumps({"text": "via API on B"}).encode(),
                    headers={
                        "Content-Type": "application/json",
                        "Cookie": f"sessionid={buyer_session}; csrftoken={CSRF}",
                        "X-CSRFToken": CSRF,
                        "Origin": server_b.url,
                        "Referer": server_b.url + "/",
                    },
                    method="POST",
                )
                with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
                    return response.status

            status = await asyncio.to_thread(post)
            over_api = await _next(seller_ws, "message.new")
            return over_socket, badge, typing, status, over_api
        finally:
            for ws in (seller_ws, seller_badge, buyer_ws):
                await ws.close()

    over_socket, badge, typing, status, over_api = asyncio.run(scenario())

    stored = Message.objects.get(client_id="x-1")
    assert over_socket["message"]["id"] == stored.pk
    assert over_socket["message"]["text"] == "via B"
    assert badge == {"type": "unread", "total": 2}
    assert typing["user_id"] == seller.pk
    assert status == 201
    assert over_api["message"]["text"] == "via API on B"
    assert Message.objects.filter(conversation=conversation).count() == 3
