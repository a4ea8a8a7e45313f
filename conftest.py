"""Shared fixtures. App-specific factories live in `<app>/tests/factories.py`."""

import shutil
import tempfile
from pathlib import Path

import pytest
from django.conf import settings

from accounts.tests.factories import UserFactory

# The browser harness (fixtures `page`, `live_url`, `asgi_live_server`, ...).
pytest_plugins = ["tests.browser.fixtures"]


def pytest_configure(config):
    # SQLite test database in a file, not in memory: the ASGI live server runs
    # in another process and must see it, and pytest-xdist names one per worker.
    database = settings.DATABASES["default"]
    if not settings.DATABASE_IS_POSTGRES and not database.get("TEST", {}).get("NAME"):
        shm = Path("/dev/shm")  # noqa: S108 - mkdtemp makes a private 0700 folder
        folder = tempfile.mkdtemp(
            prefix="mp-test-db-", dir=shm if shm.is_dir() else None
        )
        config.stash[_test_db_folder] = folder
        database.setdefault("TEST", {})["NAME"] = str(Path(folder) / "test.sqlite3")

    _return_pooled_connections_in_channels_tests()
    # Tests import marketplace.asgi; freezing this process's objects (a
    # server's business: core.gcfreeze) would keep the cycles of every test
    # before it from being collected.
    settings.GC_FREEZE = False


def _return_pooled_connections_in_channels_tests():
    """channels' test communicator turns `close_old_connections` into a no-op
    while it talks to a consumer (so a TestCase's transaction survives). With
    the PostgreSQL connection pool, every consumer thread then kept its pooled
    connection for good and the pool ran dry after a few tests. Return them
    outside a transaction, as production does after each database call."""
    from channels.testing import application as channels_testing
    from django.db import connections

    def close_unless_in_transaction():
        for conn in connections.all(initialized_only=True):
            if not conn.in_atomic_block:
                conn.close_if_unusable_or_obsolete()

    channels_testing.no_op = close_unless_in_transaction


def pytest_unconfigure(config):
    folder = config.stash.get(_test_db_folder, None)
    if folder:
        shutil.rmtree(folder, ignore_errors=True)


_test_db_folder = pytest.StashKey[str]()


def pytest_collection_modifyitems(config, items):
    on_services = settings.DATABASE_IS_POSTGRES and bool(settings.REDIS_URL)
    skip_services = pytest.mark.skip(
        reason="needs PostGIS + Redis: runs in the second pass of scripts/test.sh"
    )
    for item in items:
        if "services" in item.keywords and not on_services:
            item.add_marker(skip_services)


@pytest.fixture(autouse=True)
def _eager_celery_and_tmp_media(settings, tmp_path):
    """Jobs run in-process and uploads land in a throwaway folder."""
    from marketplace.celery import app

    # The CELERY_-prefixed keys: they shadow the short names set from settings.
    app.conf.CELERY_TASK_ALWAYS_EAGER = True
    app.conf.CELERY_TASK_EAGER_PROPAGATES = True
    settings.MEDIA_ROOT = tmp_path / "media"
    # Password hashing is not what the tests test; the real hasher costs ~0.3 s.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {
            "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        },
    }


@pytest.fixture(autouse=True)
def _clear_cache():
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def user(db):
    return UserFactory()


@pytest.fixture
def other_user(db):
    return UserFactory()


@pytest.fixture
def moderator(db):
    from accounts.services import moderator_group_sync

    group = moderator_group_sync()
    user = UserFactory(is_staff=True)
    user.groups.add(group)
    return user


@pytest.fixture
def api_client():
    from rest_framework.test import APIClient

    return APIClient()


@pytest.fixture
def user_api_client(user):
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(user)
    return client
