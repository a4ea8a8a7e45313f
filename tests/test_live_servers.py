"""The live servers without a browser: they run in both passes (SpatiaLite and
PostGIS), so the forked ASGI server is checked against PostgreSQL too."""

import asyncio
import json
import urllib.request

from asgiref.sync import sync_to_async
from django.conf import settings
from django.test import Client

from accounts.tests.factories import UserFactory
from tests.browser.fixtures import AsgiLiveServer


def get(url: str) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=20) as response:  # noqa: S310
        return response.status, response.read().decode()


def test_asgi_live_server_serves_data_made_by_the_test(asgi_live_server):
    seller = UserFactory(display_name="Aruzhan from Taraz")

    status, html = get(f"{asgi_live_server.url}/users/{seller.pk}/")

    assert status == 200
    assert "Aruzhan from Taraz" in html


def test_asgi_live_server_health(asgi_live_server):
    status, body = get(f"{asgi_live_server.url}/healthz")

    assert status == 200
    assert '"database": "ok"' in body


def test_threaded_live_server_serves_data_made_by_the_test(live_server):
    seller = UserFactory(display_name="Bolat from Aktobe")

    status, html = get(f"{live_server.url}/users/{seller.pk}/")

    assert status == 200
    assert "Bolat from Aktobe" in html


async def _echo(server, session_key) -> dict:
    from websockets.asyncio.client import connect

    async with connect(
        f"{server.ws_url}/ws/echo/",
        origin=server.url,
        additional_headers={"Cookie": f"{settings.SESSION_COOKIE_NAME}={session_key}"},
        open_timeout=15,
    ) as socket:
        await socket.send(json.dumps({"hello": "world"}))
        async with asyncio.timeout(15):
            return json.loads(await socket.recv())


def test_asgi_live_server_answers_websockets_after_this_process_ran_async_code(
    transactional_db,
):
    # Given this process ran thread-sensitive sync_to_async code outside a
    # request, as every consumer test does: asgiref's process-wide single-thread
    # executor now has a worker thread, which a fork does not copy.
    asyncio.run(sync_to_async(lambda: None)())
    user = UserFactory()
    client = Client()
    client.force_login(user)
    session_key = client.cookies[settings.SESSION_COOKIE_NAME].value

    # When a forked ASGI live server authenticates a websocket (a
    # database_sync_to_async call outside a request)
    server = AsgiLiveServer(application="tests.browser.echo_app.application").start()
    try:
        answer = asyncio.run(_echo(server, session_key))
    finally:
        server.stop()

    # Then the handshake completes and the session's user answers
    assert answer == {"echo": {"hello": "world"}, "user": user.email}
