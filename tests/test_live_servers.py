"""The live servers without a browser: they run in both passes (SpatiaLite and
PostGIS), so the forked ASGI server is checked against PostgreSQL too."""

import urllib.request

from accounts.tests.factories import UserFactory


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
