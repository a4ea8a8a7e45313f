"""Production configuration: `check --deploy`, secrets, static files, health."""

import gzip
import json
import subprocess
import sys
import urllib.request

from tests.utils import (
    BASE_DIR,
    clean_env,
    free_port,
    manage,
    production_env,
    python,
    wait_for_http,
)

HEALTHZ_IN_CHILD = """
import django
django.setup()
from django.test import Client
response = Client().get("/healthz", HTTP_HOST="10.0.0.7:8000")
print(response.status_code, response.content.decode())
"""


def test_production_settings_pass_the_deployment_checklist():
    result = manage(
        "check", "--deploy", "--fail-level", "WARNING", env=production_env()
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_deployment_checklist_flags_a_weak_key_and_a_missing_redis():
    env = production_env(DJANGO_SECRET_KEY="short-key")
    del env["REDIS_URL"]

    result = manage("check", "--deploy", "--fail-level", "WARNING", env=env)

    assert result.returncode == 1
    assert "security.W009" in result.stderr
    assert "core.W001" in result.stderr


def test_production_refuses_to_start_without_a_secret_key():
    env = production_env()
    del env["DJANGO_SECRET_KEY"]

    check = manage("check", env=env)
    asgi = python("import marketplace.asgi", env=env)

    for result in (check, asgi):
        assert result.returncode == 1
        assert "DJANGO_SECRET_KEY must be set when DEBUG is off." in result.stderr


def test_local_default_needs_no_secret_key():
    result = manage("check", env=clean_env())

    assert result.returncode == 0, result.stderr


def test_healthz_answers_probes_by_internal_address_over_plain_http():
    # Not in ALLOWED_HOSTS, no X-Forwarded-Proto: still an answer, not 400 or 301
    env = production_env(
        DATABASE_URL="postgis://postgres@127.0.0.1:1/nothing",
        REDIS_URL="redis://127.0.0.1:1/0",
    )

    result = python(HEALTHZ_IN_CHILD, env=env)

    status, body = result.stdout.strip().splitlines()[-1].split(" ", 1)
    assert status == "503", result.stdout + result.stderr
    assert json.loads(body) == {
        "status": "error",
        "checks": {"database": "error", "redis": "error"},
    }


def test_whitenoise_serves_collected_static_files_in_production(tmp_path):
    # Given collectstatic has run with production settings
    static_root = tmp_path / "static"
    env = production_env(
        STATIC_ROOT=str(static_root),
        DATABASE_URL=f"spatialite:///{tmp_path / 'db.sqlite3'}",
        DJANGO_ALLOWED_HOSTS="127.0.0.1",
    )
    del env["REDIS_URL"]
    collect = manage("collectstatic", "--noinput", "-v", "0", env=env, timeout=300)
    assert collect.returncode == 0, collect.stderr
    manifest = json.loads((static_root / "staticfiles.json").read_text())
    hashed_css = manifest["paths"]["css/app.css"]
    assert hashed_css != "css/app.css"

    # When daphne serves the app behind a TLS proxy
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port),
         "marketplace.asgi:application"],
        cwd=BASE_DIR, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        wait_for_http(f"http://127.0.0.1:{port}/healthz", process=server)
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/static/{hashed_css}",
            headers={"X-Forwarded-Proto": "https", "Accept-Encoding": "gzip"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            status, headers, body = response.status, response.headers, response.read()
    finally:
        server.terminate()
        server.wait(timeout=20)

    # Then the hashed file comes compressed and cached for good
    assert status == 200
    assert headers["Content-Encoding"] == "gzip"
    assert "immutable" in headers["Cache-Control"]
    assert "max-age=315360000" in headers["Cache-Control"]
    assert gzip.decompress(body) == (static_root / hashed_css).read_bytes()
