"""Browser test harness: Playwright's sync API drives Debian's Chromium against
a live server running on the test database.

The root `conftest.py` registers this module as a plugin, so a browser test in
any app can use its fixtures:

- `browser`: the shared Chromium (one per test process);
- `context`, `page`: a fresh browser context (cookies, storage) per test;
- `new_context()`: another fresh context, for a second user in the same test;
- `live_url`: base URL of pytest-django's threaded `live_server` (WSGI, shares
  the test process: `mail.outbox`, the local-memory cache, settings overrides);
- `asgi_live_server`: daphne serving `marketplace.asgi` (HTTP + websockets) in
  a forked process, for chat; `.url` and `.ws_url`;
- `login_as(user)`: logs the browser in by setting a session cookie
  (`login_as(user, context=other)` for a context from `new_context()`);
- `outbox`: mail sent by either server, with `outbox.link(...)` for e-mailed links.

Mark browser tests `@pytest.mark.browser`; screenshots of failing ones are
written to `test-results/`.
"""

from __future__ import annotations

import asyncio
import os
import re
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from functools import partial
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

CHROMIUM_PATH = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
DEFAULT_TIMEOUT_MS = 10_000
BROWSER_FIXTURES = {"browser", "context", "page", "new_context"}


def _uses_browser(item) -> bool:
    return bool(BROWSER_FIXTURES.intersection(getattr(item, "fixturenames", ())))


class _Chromium:
    """One Playwright driver and one Chromium per test process, started on use.

    While Playwright's sync API is started it keeps an asyncio loop running in
    the main thread: Django then refuses ORM calls from that thread unless
    DJANGO_ALLOW_ASYNC_UNSAFE is set, and async tests cannot run. So browser
    tests are ordered last, and the browser is stopped before any other test.
    """

    def __init__(self):
        self._playwright = None
        self._browser = None
        self._saved_env = None

    def get(self):
        if self._browser is not None and self._browser.is_connected():
            return self._browser
        self.stop()
        if not Path(CHROMIUM_PATH).exists():
            pytest.fail(
                f"Chromium not found at {CHROMIUM_PATH}: run ./scripts/bootstrap.sh "
                "--dev (apt-get install chromium) or set CHROMIUM_PATH.",
                pytrace=False,
            )
        from playwright.sync_api import sync_playwright

        self._saved_env = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
        self._playwright = sync_playwright().start()
        self._browser = self._playwright.chromium.launch(
            executable_path=CHROMIUM_PATH, args=CHROMIUM_ARGS
        )
        return self._browser

    def stop(self):
        if self._playwright is None:
            return
        try:
            if self._browser is not None and self._browser.is_connected():
                self._browser.close()
        finally:
            self._playwright.stop()
            self._playwright = self._browser = None
            if self._saved_env is None:
                os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
            else:
                os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = self._saved_env


_chromium = _Chromium()


# --- Hooks ----------------------------------------------------------------------


def pytest_collection_modifyitems(config, items):
    # Browser tests last (a stable sort keeps the rest in order): the browser
    # then starts once and never shares the main thread with async tests.
    items.sort(key=_uses_browser)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    if not _uses_browser(item):
        _chromium.stop()


def pytest_sessionfinish(session, exitstatus):
    _chromium.stop()


def results_dir(config) -> Path:
    return Path(os.environ.get("TEST_RESULTS_DIR", config.rootpath / "test-results"))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    pages = _pages_of(item)
    if report.failed and report.when in ("setup", "call") and pages:
        report.sections.append(
            (
                "browser",
                "\n".join(
                    _save_failure_artifacts(item, page, suffix)
                    for suffix, page in pages
                ),
            )
        )
    return report


def _pages_of(item) -> list:
    """(file name suffix, page): the test's `page`, then those of `new_context()`."""
    funcargs = getattr(item, "funcargs", {})
    pages = []
    if funcargs.get("page") is not None:
        pages.append(("", funcargs["page"]))
    extra = funcargs.get("new_context")
    if extra is not None:
        pages.extend((f"_{n}", page) for n, page in enumerate(extra.pages(), 2))
    return pages


def _save_failure_artifacts(item, page, suffix: str = "") -> str:
    folder = results_dir(item.config)
    folder.mkdir(parents=True, exist_ok=True)
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", item.nodeid).strip("_")[:150] + suffix
    lines = []
    try:
        screenshot = folder / f"{stem}.png"
        page.screenshot(path=str(screenshot), full_page=True)
        (folder / f"{stem}.html").write_text(page.content(), encoding="utf-8")
        lines.append(f"screenshot: {screenshot}  (page HTML next to it)")
        lines.append(f"url: {page.url}")
    except Exception as exc:  # the page may be closed or crashed
        lines.append(f"no screenshot: {exc}")
    lines.extend(f"page error: {error}" for error in getattr(page, "js_errors", []))
    return "\n".join(lines)


# --- Browser fixtures -----------------------------------------------------------


@pytest.fixture
def browser():
    """The shared Chromium; started on first use, kept for later browser tests."""
    return _chromium.get()


def _watch_js_errors(page):
    if not hasattr(page, "js_errors"):
        page.js_errors = []
        page.on("pageerror", lambda error: page.js_errors.append(str(error)))
    return page


def _new_context(browser):
    ctx = browser.new_context(
        viewport={"width": 1280, "height": 900},
        locale="en-US",
        timezone_id="Asia/Almaty",
    )
    ctx.set_default_timeout(DEFAULT_TIMEOUT_MS)
    ctx.set_default_navigation_timeout(2 * DEFAULT_TIMEOUT_MS)
    ctx.on("page", _watch_js_errors)
    return ctx


@pytest.fixture
def context(browser):
    """A fresh browser context per test: no cookies or storage carried over."""
    ctx = _new_context(browser)
    yield ctx
    ctx.close()


@pytest.fixture
def page(context):
    """A page in the test's own context; JavaScript errors are kept on
    `page.js_errors` and reported with a failing test."""
    return _watch_js_errors(context.new_page())


class _ExtraContexts:
    """`new_context()`: another fresh context from the shared browser."""

    def __init__(self, browser):
        self._browser = browser
        self._contexts = []

    def __call__(self):
        ctx = _new_context(self._browser)
        self._contexts.append(ctx)
        return ctx

    def pages(self) -> list:
        return [page for ctx in self._contexts for page in ctx.pages]

    def close(self):
        for ctx in self._contexts:
            ctx.close()


@pytest.fixture
def new_context(browser):
    """`new_context()`: a second (third...) user's browser context in one test,
    closed after it; a failing test gets screenshots of its pages too."""
    contexts = _ExtraContexts(browser)
    yield contexts
    contexts.close()


@pytest.fixture
def live_url(live_server) -> str:
    """Base URL of the threaded live server, e.g. `http://localhost:41234`."""
    return live_server.url


@pytest.fixture
def login_as(context):
    """`login_as(user)`: the browser is logged in as `user` on both live servers;
    `login_as(user, context=other)` logs in a context from `new_context()`.

    The fast path: a session made by Django's test client, its cookie handed to
    the browser. Use the login page only when the login itself is under test.
    """
    test_context = context

    def _login(user, *, context=None):
        from django.conf import settings
        from django.test import Client

        client = Client()
        client.force_login(user)
        session_key = client.cookies[settings.SESSION_COOKIE_NAME].value
        (context or test_context).add_cookies(
            [
                {
                    "name": settings.SESSION_COOKIE_NAME,
                    "value": session_key,
                    "domain": host,
                    "path": "/",
                    "httpOnly": True,
                    "sameSite": "Lax",
                }
                for host in ("localhost", "127.0.0.1")
            ]
        )
        return user

    return _login


# --- E-mail ---------------------------------------------------------------------


@dataclass(frozen=True)
class Mail:
    to: list[str]
    subject: str
    body: str
    html: str = ""
    links: list[str] = field(default_factory=list)


_LINK = re.compile(r"https?://[^\s\"'<>]+")


def _mail(to, subject, body, html="") -> Mail:
    links = list(dict.fromkeys(_LINK.findall(body) + _LINK.findall(html)))
    return Mail(to=list(to), subject=str(subject), body=body, html=html, links=links)


def _mail_from_message(message) -> Mail:
    html = next(
        (
            content
            for content, mime in getattr(message, "alternatives", [])
            if mime == "text/html"
        ),
        "",
    )
    return _mail(message.to, message.subject, message.body, html)


def _mail_from_file(path: Path) -> Mail:
    parsed = message_from_bytes(path.read_bytes(), policy=policy.default)
    plain = parsed.get_body(preferencelist=("plain",))
    html = parsed.get_body(preferencelist=("html",))
    to = [address.strip() for address in str(parsed["To"] or "").split(",") if address]
    return _mail(
        to,
        parsed["Subject"] or "",
        plain.get_content() if plain is not None else "",
        html.get_content() if html is not None else "",
    )


class Outbox:
    """Mail sent during the test: by this process (`mail.outbox`, the threaded
    live server) or by the ASGI live server (spooled to files)."""

    def __init__(self, spool_dir: Path):
        self.spool_dir = spool_dir

    @property
    def messages(self) -> list[Mail]:
        from django.core import mail

        local = [_mail_from_message(m) for m in getattr(mail, "outbox", [])]
        spooled = [_mail_from_file(p) for p in sorted(self.spool_dir.glob("*.eml"))]
        return local + spooled

    def wait_for(
        self, *, to: str | None = None, subject: str = "", timeout=10.0
    ) -> Mail:
        """The latest message to `to` whose subject contains `subject`."""
        deadline = time.monotonic() + timeout
        while True:
            found = [
                m
                for m in self.messages
                if (to is None or to in m.to) and subject.lower() in m.subject.lower()
            ]
            if found:
                return found[-1]
            if time.monotonic() > deadline:
                sent = [(m.to, m.subject) for m in self.messages]
                raise AssertionError(
                    f"No e-mail to {to!r} with {subject!r} in the subject; sent: {sent}"
                )
            time.sleep(0.1)

    def link(
        self,
        *,
        to: str | None = None,
        subject: str = "",
        contains: str = "",
        base_url: str | None = None,
        timeout=10.0,
    ) -> str:
        """The first link containing `contains` in the latest matching message.

        E-mails link to the public SITE_URL; pass the live server's URL as
        `base_url` to get the same path on the server under test.
        """
        message = self.wait_for(to=to, subject=subject, timeout=timeout)
        for link in message.links:
            if contains in link:
                if base_url:
                    parts = urlsplit(link)
                    link = base_url.rstrip("/") + urlunsplit(
                        ("", "", parts.path, parts.query, parts.fragment)
                    )
                return link
        raise AssertionError(f"No link with {contains!r} in: {message.body}")


@pytest.fixture
def mail_spool_dir(tmp_path) -> Path:
    folder = tmp_path / "mail-spool"
    folder.mkdir()
    return folder


@pytest.fixture
def outbox(mail_spool_dir) -> Outbox:
    return Outbox(mail_spool_dir)


# --- ASGI live server -----------------------------------------------------------


def _child_application(application_path: str):
    from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler
    from django.utils.module_loading import import_string

    return ASGIStaticFilesHandler(import_string(application_path))


def _child_setup(host: str, mail_spool_dir: str | None):
    from asgiref.sync import SyncToAsync
    from django.conf import settings

    # The fork copied the parent's "running loop" marker (Playwright's loop);
    # daphne's reactor must start its own.
    asyncio.events._set_running_loop(None)
    # A fork copies only the forking thread. Once the test process has run
    # thread-sensitive sync_to_async code outside a request (every consumer
    # test does), asgiref's process-wide single-thread executor counts a worker
    # that the child does not have: database_sync_to_async outside an HTTP
    # request (channels' session and user lookup on a websocket) would queue
    # forever and the browser would see close code 1006. A fresh one starts
    # its own thread.
    SyncToAsync.single_thread_executor = ThreadPoolExecutor(max_workers=1)
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, host]
    if mail_spool_dir:
        settings.EMAIL_BACKEND = "tests.browser.mail.SpoolEmailBackend"
        settings.EMAIL_SPOOL_DIR = mail_spool_dir


class AsgiLiveServer:
    """daphne serving an ASGI application in a forked process, on the test
    database (the way `channels.testing.ChannelsLiveServerTestCase` does it).

    The process shares the database only: its cache, in-memory channel layer
    and settings are its own copies, taken when it starts. Use it for pages
    that need websockets; everything else is simpler on `live_server`.
    """

    host = "127.0.0.1"

    def __init__(
        self,
        *,
        application: str = "marketplace.asgi.application",
        mail_spool_dir: Path | None = None,
    ):
        self.application = application
        self.mail_spool_dir = mail_spool_dir
        self.port = None
        self._process = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://{self.host}:{self.port}"

    def start(self, timeout: float = 30.0) -> AsgiLiveServer:
        from daphne.testing import DaphneProcess
        from django.db import connections

        for connection in connections.all():
            if connection.vendor == "sqlite" and connection.is_in_memory_db():
                raise RuntimeError(
                    "The ASGI live server runs in another process and cannot see "
                    "an in-memory SQLite test database; give it a file "
                    "(DATABASES['default']['TEST']['NAME'], see conftest.py)."
                )
        # The child must not inherit open database connections: two processes
        # talking over one socket (or one SQLite handle) corrupt both. With
        # the PostgreSQL pool, close_all() only returns connections to the
        # pool, whose sockets the child would then use too: close the pool
        # (the next query here opens a new one).
        connections.close_all()
        for connection in connections.all(initialized_only=True):
            if getattr(connection, "pool", None) is not None:
                connection.close_pool()
        spool = str(self.mail_spool_dir) if self.mail_spool_dir else None
        self._process = DaphneProcess(
            host=self.host,
            get_application=partial(_child_application, self.application),
            setup=partial(_child_setup, self.host, spool),
        )
        self._process.daemon = True
        self._process.start()
        deadline = time.monotonic() + timeout
        while not self._process.ready.wait(timeout=0.2):
            if not self._process.is_alive() or time.monotonic() > deadline:
                detail = ""
                if not self._process.errors.empty():
                    _error, detail = self._process.errors.get(False)
                self.stop()
                raise RuntimeError(f"daphne did not start.\n{detail}")
        self.port = self._process.port.value
        return self

    def stop(self):
        if self._process is None:
            return
        self._process.terminate()
        self._process.join(timeout=10)
        if self._process.is_alive():
            self._process.kill()
            self._process.join()
        self._process = None


@pytest.fixture
def asgi_live_server(transactional_db, mail_spool_dir):
    """daphne with the project's ASGI app (HTTP + websockets), one per test."""
    server = AsgiLiveServer(mail_spool_dir=mail_spool_dir).start()
    yield server
    server.stop()
