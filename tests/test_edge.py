"""The production topology: nginx in front (deploy/nginx.conf.template),
granian for plain HTTP (the Dockerfile's command), daphne for /ws/.

The config checks run in both passes; the end-to-end test starts all three
processes on free ports against PostGIS + Redis (second pass). Both need the
system's nginx (`apt-get install nginx`; CI installs it) and skip without it.
"""

import asyncio
import io
import json
import random
import re
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
import yaml
from allauth.headless.tokens.strategies.jwt import internal
from django.conf import settings
from django.db import connection
from django.test import Client
from PIL import Image

from accounts.tests.factories import UserFactory
from listings.models import ListingView
from listings.tests.factories import ListingFactory
from tests.edge import (
    NGINX_TEMPLATE,
    Nginx,
    get,
    image_command,
    image_environment,
    image_granian_settings,
    nginx_binary,
    render_nginx_conf,
    start_daphne,
    start_granian,
    template_variables,
)
from tests.utils import BASE_DIR, clean_env, free_port

needs_nginx = pytest.mark.skipif(
    nginx_binary() is None,
    reason="nginx is not installed (apt-get install nginx); CI installs it",
)

SAMPLE = {
    "EDGE_LISTEN": "127.0.0.1:8080",
    "EDGE_WEB_UPSTREAM": "127.0.0.1:8001",
    "EDGE_WS_UPSTREAM": "127.0.0.1:8002",
    "EDGE_API_CACHE": "api_cache",
    "EDGE_REAL_IP_FROM": "10.0.0.0/8",
    "EDGE_MAX_BODY_SIZE": "120m",
}


def compose() -> dict:
    return yaml.safe_load((BASE_DIR / "docker-compose.yml").read_text())


# --- The config files ----------------------------------------------------------


@needs_nginx
@pytest.mark.parametrize("cache", ["api_cache", "off"])
def test_nginx_accepts_the_rendered_template(tmp_path, cache):
    config = tmp_path / "nginx.conf"
    values = {**SAMPLE, "EDGE_STATE_DIR": str(tmp_path), "EDGE_API_CACHE": cache}
    config.write_text(render_nginx_conf(values))

    result = subprocess.run(
        [nginx_binary(), "-t", "-p", str(tmp_path), "-c", str(config), "-e", "stderr"],
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    assert "test is successful" in result.stderr


def test_a_template_variable_without_a_value_is_an_error():
    with pytest.raises(KeyError, match="EDGE_STATE_DIR"):
        render_nginx_conf(SAMPLE)


def test_compose_gives_the_proxy_every_template_variable():
    proxy = compose()["services"]["proxy"]
    environment = proxy["environment"]
    template = NGINX_TEMPLATE.read_text()

    assert template_variables() == {
        name for name in environment if name.startswith("EDGE_")
    }
    # The entrypoint renders the whole nginx.conf, and only EDGE_* names.
    assert environment["NGINX_ENVSUBST_OUTPUT_DIR"] == "/etc/nginx"
    assert environment["NGINX_ENVSUBST_FILTER"] == "^EDGE_"
    assert (
        "./deploy/nginx.conf.template:/etc/nginx/templates/nginx.conf.template:ro"
        in proxy["volumes"]
    )
    # Every variable is explained at the top of the template.
    header = template.split("worker_processes")[0]
    for name in template_variables():
        assert f"#   {name}" in header, name


def test_compose_runs_granian_for_http_and_daphne_for_websockets():
    services = compose()["services"]

    assert set(services) == {
        "proxy", "web", "ws", "worker", "beat", "db", "redis", "migrate"
    }  # fmt: skip
    assert "command" not in services["web"]  # the image's: granian
    assert services["ws"]["command"][:1] == ["daphne"]
    assert "--proxy-headers" in services["ws"]["command"]
    assert services["proxy"]["environment"]["EDGE_WEB_UPSTREAM"] == "web:8000"
    assert services["proxy"]["environment"]["EDGE_WS_UPSTREAM"] == "ws:8000"
    # Only the proxy is published.
    assert [name for name, s in services.items() if "ports" in s] == ["proxy"]
    for name in ("web", "ws"):
        assert services[name]["environment"]["DJANGO_TRUSTED_PROXY_COUNT"] == "1"


def test_compose_passes_granian_settings_on_without_defaults_of_its_own():
    web = compose()["services"]["web"]
    image = image_environment()

    passed = {k: v for k, v in web["environment"].items() if k.startswith("GRANIAN_")}

    # No value: the shell's or .env's when set, else the image's default.
    assert passed == dict.fromkeys(
        ["GRANIAN_WORKERS", "GRANIAN_BLOCKING_THREADS", "GRANIAN_LOG_LEVEL"]
    )
    assert set(passed) <= set(image)
    # Docker stops the container only after granian had its time to stop
    # its workers.
    grace = int(web["stop_grace_period"].removesuffix("s"))
    assert grace > int(image["GRANIAN_WORKERS_KILL_TIMEOUT"])


def test_the_image_serves_http_with_granian_on_the_wsgi_application():
    dockerfile = (BASE_DIR / "Dockerfile").read_text()
    command = image_command()

    assert command[0] == "granian"
    assert command[-1] == "marketplace.wsgi:application"
    options = " ".join(command[1:-1])
    assert "--interface wsgi" in options
    assert "--no-ws" in options  # daphne serves /ws/
    assert image_granian_settings() == {
        "GRANIAN_HOST": "0.0.0.0",  # noqa: S104 - inside the container
        "GRANIAN_PORT": "8000",
        "GRANIAN_WORKERS": "2",
        "GRANIAN_BLOCKING_THREADS": "1",
        "GRANIAN_RESPAWN_FAILED_WORKERS": "true",
        "GRANIAN_WORKERS_KILL_TIMEOUT": "20",
        "GRANIAN_LOG_LEVEL": "info",
    }  # no access log: nginx writes it
    assert "HEALTHCHECK" in dockerfile
    assert "127.0.0.1:8000/healthz" in dockerfile
    requirements = (BASE_DIR / "requirements.txt").read_text()
    assert re.search(r"^granian==\d", requirements, re.MULTILINE)
    assert not re.search(r"^gunicorn\b", requirements, re.MULTILINE)


def test_nginx_drops_idle_upstream_connections_before_granian_does():
    # granian closes a keep-alive connection idle for its header read timeout
    # (measured: 30 s by default, 60 s at most); a request nginx sends on it
    # meanwhile fails. nginx's own idle limit must be the shorter one.
    command = image_command()
    option = command.index("--http1-header-read-timeout")
    granian_seconds = int(command[option + 1]) / 1000
    # The block up to its closing brace, alone on its line.
    upstream = re.search(
        r"upstream marketplace_web \{$(.*?)^\s*\}$",
        NGINX_TEMPLATE.read_text(),
        re.S | re.M,
    ).group(1)
    nginx_seconds = int(re.search(r"^\s*keepalive_timeout (\d+)s;", upstream, re.M)[1])

    assert "keepalive 32;" in upstream
    assert nginx_seconds + 5 <= granian_seconds


def test_granian_settings_compose_passes_on_are_documented_with_their_defaults():
    documented = (BASE_DIR / ".env.example").read_text()
    image = image_environment()

    for name in compose()["services"]["web"]["environment"]:
        if name.startswith("GRANIAN_"):
            assert f"# {name}={image[name]}\n" in documented, name


def test_nginx_passes_requests_with_django_session_cookie_to_django():
    # The bypass names the cookie; renaming it in settings must rename it here.
    assert f"$cookie_{settings.SESSION_COOKIE_NAME}" in NGINX_TEMPLATE.read_text()


# --- End to end: nginx + granian + daphne -----------------------------------------


def _database_url() -> str:
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    return (
        f"postgis://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:"
        f"{db['PORT'] or 5432}/{db['NAME']}"
    )


@pytest.fixture
def edge(transactional_db, tmp_path):
    """nginx on a free port in front of granian (as the image runs it, with
    one worker and an access log) and one daphne, all on the test database
    and Redis, media in the test's folder. nginx believes X-Forwarded-For
    from 127.0.0.1, so the test can play a load balancer in front."""
    env = clean_env(
        DATABASE_URL=_database_url(),
        REDIS_URL=settings.REDIS_URL,
        CACHE_KEY_PREFIX=settings.CACHES["default"]["KEY_PREFIX"],
        CHANNELS_PREFIX=settings.CHANNEL_LAYERS["default"]["CONFIG"]["prefix"],
        CELERY_TASK_ALWAYS_EAGER="true",
        DJANGO_DEBUG="true",
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
        DJANGO_TRUSTED_PROXY_COUNT="1",
        # Long enough that a slow machine cannot see an entry expire.
        API_PUBLIC_CACHE_SECONDS="300",
        DATABASE_POOL_MIN_SIZE="1",
        MEDIA_ROOT=str(tmp_path / "media"),
    )
    web_port, ws_port = free_port(), free_port()
    processes = []
    try:
        web = start_granian(env, tmp_path, port=web_port, workers=1)
        processes.append(web)
        ws = start_daphne(env, tmp_path, port=ws_port)
        processes.append(ws)
        proxy = Nginx(tmp_path, web=f"127.0.0.1:{web_port}", ws=f"127.0.0.1:{ws_port}")
        processes.append(proxy)
        web.wait_ready(f"http://127.0.0.1:{web_port}/healthz")
        ws.wait_ready(f"http://127.0.0.1:{ws_port}/healthz")
        proxy.wait_ready(f"{proxy.url}/healthz")
        yield proxy
    finally:
        for process in reversed(processes):
            process.stop()


def _access_log(folder: Path, *, last: str) -> list[str]:
    """granian's access log lines (tests.edge.GRANIAN_ACCESS_LOG_FORMAT) once
    the line `last` is there: granian logs a request after sending its answer,
    so the client can be faster."""
    deadline = time.monotonic() + 10
    while True:
        text = (folder / "granian.log").read_text(errors="replace")
        lines = [line for line in text.splitlines() if line.startswith("access ")]
        if last in lines or time.monotonic() > deadline:
            return lines
        time.sleep(0.05)


def _daphne_log(folder: Path) -> str:
    path = folder / "daphne-access.log"
    return path.read_text() if path.exists() else ""


def _photo() -> bytes:
    """A JPEG of noise, 2000 x 1500: about 6 MB, more than Django keeps in
    memory (FILE_UPLOAD_MAX_MEMORY_SIZE), so the upload goes to a temp file."""
    noise = random.Random(7).randbytes(2000 * 1500 * 3)
    buffer = io.BytesIO()
    Image.frombytes("RGB", (2000, 1500), noise).save(buffer, "JPEG", quality=100)
    return buffer.getvalue()


def _post_photo(url: str, token: str, photo: bytes):
    boundary = "edge-test-boundary"
    body = b"".join(
        [
            f"--{boundary}\r\n".encode(),
            b'Content-Disposition: form-data; name="image"; filename="bike.jpg"\r\n',
            b"Content-Type: image/jpeg\r\n\r\n",
            photo,
            f"\r\n--{boundary}--\r\n".encode(),
        ]
    )
    request = urllib.request.Request(  # noqa: S310 - the test's own nginx
        url,
        data=body,
        method="POST",
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Type": f"multipart/form-data; boundary={boundary}",
        },
    )
    with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
        return response.status, json.loads(response.read()), len(body)


async def _first_frame(proxy, session_key: str) -> dict:
    from websockets.asyncio.client import connect

    async with connect(
        f"{proxy.ws_url}/ws/user/",
        origin=proxy.url,
        additional_headers={"Cookie": f"{settings.SESSION_COOKIE_NAME}={session_key}"},
        open_timeout=20,
    ) as socket:
        async with asyncio.timeout(20):
            return json.loads(await socket.recv())


@needs_nginx
@pytest.mark.services
def test_edge_routes_by_path_caches_only_anonymous_reads_and_passes_uploads(
    edge, tmp_path
):
    user = UserFactory()
    listing = ListingFactory(title="Road bike")
    own = ListingFactory(owner=user, title="Tandem")
    login = Client()
    login.force_login(user)
    session_key = login.cookies[settings.SESSION_COOKIE_NAME].value
    token = internal.create_access_token(user, login.session, {"scope": "read"})
    writer = internal.create_access_token(user, login.session, {"scope": "read write"})
    api = f"{edge.url}/api/v1/listings/{listing.pk}/"
    page = f"{edge.url}/listings/{listing.pk}/"

    # A page: granian answers, nothing is cached, and behind a load balancer
    # (X-Forwarded-For from 127.0.0.1) each client address is one visitor.
    answers = [
        get(page, {"X-Forwarded-For": address})
        for address in ("203.0.113.5", "203.0.113.5", "198.51.100.1")
    ]
    for status, headers, body in answers:
        assert status == 200
        assert b"Road bike" in body
        assert "X-Cache-Status" not in headers
        assert headers["Cache-Control"] == "private, no-cache"
    assert ListingView.objects.filter(listing=listing).count() == 2

    # The anonymous API detail: a miss, then hits. nginx runs a worker per
    # core and no cache lock, so a request on another worker can still miss
    # while the first one's entry is being written; it must hit soon after.
    first = get(api)
    assert first[0] == 200
    assert json.loads(first[2])["title"] == "Road bike"
    assert first[1]["X-Cache-Status"] == "MISS"
    assert "public" in first[1]["Cache-Control"]
    misses = 1
    deadline = time.monotonic() + 5
    while True:
        status, headers, body = get(api)
        assert status == 200
        assert body == first[2]
        if headers["X-Cache-Status"] == "HIT":
            break
        assert headers["X-Cache-Status"] == "MISS"
        misses += 1
        assert time.monotonic() < deadline, "the anonymous read was never cached"
        time.sleep(0.05)

    # A token or a session cookie always reaches Django and is never stored.
    for credentials in (
        {"Authorization": f"Bearer {token}"},
        {"Cookie": f"{settings.SESSION_COOKIE_NAME}={session_key}"},
    ):
        for _ in range(2):
            status, headers, _ = get(api, credentials)
            assert status == 200
            assert headers["X-Cache-Status"] == "BYPASS"
            assert headers["Cache-Control"] == "private, no-cache"
    new_path = f"{edge.url}/api/v1/listings/{listing.pk}/?format=json"
    status, headers, _ = get(new_path, {"Authorization": f"Bearer {token}"})
    assert headers["X-Cache-Status"] == "BYPASS"
    assert get(new_path)[1]["X-Cache-Status"] == "MISS"  # nothing was stored

    # A websocket through nginx reaches daphne and gets the first chat frame.
    frame = asyncio.run(_first_frame(edge, session_key))
    assert frame == {"type": "unread", "total": 0}

    # A photo upload of about 6 MB: nginx reads the whole body, then passes
    # it to granian, which hands it to Django.
    photo = _photo()
    status, image, sent = _post_photo(
        f"{edge.url}/api/v1/listings/{own.pk}/images/", writer, photo
    )
    assert status == 201, image
    assert sent > 5 * 1024 * 1024
    assert own.images.get().pk == image["id"]
    stored = list((tmp_path / "media").rglob("*.jpg"))
    assert stored, "the photo was not stored"

    # granian served the HTTP requests, daphne only the websocket.
    upload = f'access "POST /api/v1/listings/{own.pk}/images/" "" 201'
    web_log = _access_log(tmp_path, last=upload)
    daphne_log = _daphne_log(tmp_path)
    assert upload in web_log
    pages = [line for line in web_log if f'"GET /listings/{listing.pk}/"' in line]
    assert len(pages) == 3
    # The misses, then two requests with a token and two with a cookie.
    detail = f'access "GET /api/v1/listings/{listing.pk}/" "" 200'
    assert web_log.count(detail) == misses + 4
    assert "/ws/user/" in daphne_log
    assert not [line for line in web_log if "/ws/" in line]
    assert "/listings/" not in daphne_log
