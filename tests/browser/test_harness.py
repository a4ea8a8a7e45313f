"""The browser harness itself: servers, login shortcut, mail, screenshots."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import expect

from tests.browser.fixtures import AsgiLiveServer

BASE_DIR = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.browser

WEBSOCKET_ROUND_TRIP = """
url => new Promise((resolve, reject) => {
  const socket = new WebSocket(url);
  socket.onopen = () => socket.send(JSON.stringify({hello: "world"}));
  socket.onmessage = (event) => { resolve(JSON.parse(event.data)); socket.close(); };
  socket.onclose = (event) => reject(new Error(`closed with code ${event.code}`));
  setTimeout(() => reject(new Error("no answer in 20 s")), 20000);
})
"""


def test_threaded_live_server_serves_the_site_to_chromium(page, live_url):
    page.goto(f"{live_url}/")

    expect(page.locator("header .brand")).to_contain_text("Bazaar")
    assert (
        page.evaluate(
            "getComputedStyle(document.querySelector('.site-header')).display"
        )
        != "inline"
    ), "app.css did not load"
    assert page.js_errors == []


def test_login_as_logs_the_browser_in(page, live_url, login_as, user):
    login_as(user)

    page.goto(f"{live_url}/account/settings/")

    assert page.url == f"{live_url}/account/settings/"
    expect(page.locator(".account-menu summary")).to_have_text(user.public_name)


def test_pages_are_anonymous_without_login(page, live_url, user):
    page.goto(f"{live_url}/account/settings/")

    assert page.url.startswith(f"{live_url}/accounts/login/")


def test_asgi_live_server_serves_pages_static_files_and_test_data(
    page, asgi_live_server, login_as, user
):
    login_as(user)

    page.goto(f"{asgi_live_server.url}/account/settings/")

    expect(page.locator(".account-menu summary")).to_have_text(user.public_name)
    css = page.request.get(f"{asgi_live_server.url}/static/css/app.css")
    assert css.status == 200
    assert "#8B5E3C" in css.text()


def test_asgi_live_server_mail_reaches_the_outbox(page, asgi_live_server, outbox, user):
    page.goto(f"{asgi_live_server.url}/accounts/password/reset/")
    form = page.locator("form:has(input[name=email])").last
    form.locator("input[name=email]").fill(user.email)
    form.locator("button[type=submit]").click()
    expect(page).to_have_url(f"{asgi_live_server.url}/accounts/password/reset/done/")

    link = outbox.link(to=user.email, contains="/password/reset/key/")
    local_link = outbox.link(
        to=user.email, contains="/password/reset/key/", base_url=asgi_live_server.url
    )

    assert link.startswith(f"{settings.SITE_URL}/accounts/password/reset/key/")
    assert local_link == asgi_live_server.url + link.removeprefix(settings.SITE_URL)
    page.goto(local_link)
    expect(page.locator("input[name=password1]")).to_be_visible()


def test_asgi_live_server_carries_websockets_with_the_session(
    page, transactional_db, login_as, user, mail_spool_dir
):
    server = AsgiLiveServer(application="tests.browser.echo_app.application").start()
    try:
        login_as(user)
        page.goto(f"{server.url}/")

        answer = page.evaluate(WEBSOCKET_ROUND_TRIP, f"{server.ws_url}/ws/echo/")
    finally:
        server.stop()

    assert answer == {"echo": {"hello": "world"}, "user": user.email}


def test_a_failing_browser_test_leaves_a_screenshot(tmp_path):
    # Given a browser test that fails, run by a separate pytest
    (tmp_path / "test_fails.py").write_text(
        textwrap.dedent(
            """
            def test_fails(page, new_context):
                page.set_content("<h1>Broken page</h1>")
                new_context().new_page().set_content("<h1>Second user</h1>")
                assert page.inner_text("h1") == "Working page"
            """
        )
    )
    results = tmp_path / "results"
    env = {**os.environ, "PYTHONPATH": str(BASE_DIR), "TEST_RESULTS_DIR": str(results)}

    # When it runs
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "tests.browser.fixtures",
            "-p",
            "no:django",
            "-p",
            "no:playwright",
            "-p",
            "no:cacheprovider",
            "-q",
            "test_fails.py",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    # Then it fails, and says where the screenshot and page HTML are
    assert run.returncode == 1, run.stdout + run.stderr
    screenshot = results / "test_fails.py_test_fails.png"
    assert f"screenshot: {screenshot}" in run.stdout
    assert screenshot.read_bytes().startswith(b"\x89PNG")
    assert "Broken page" in (results / "test_fails.py_test_fails.html").read_text()
    # and those of the other contexts' pages, numbered
    second = results / "test_fails.py_test_fails_2.png"
    assert f"screenshot: {second}" in run.stdout
    assert "Second user" in (results / "test_fails.py_test_fails_2.html").read_text()
