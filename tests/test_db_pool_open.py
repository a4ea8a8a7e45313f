"""A server process opens its database pool when it loads the application
(marketplace.wsgi calls core.dbpool.open_pools), before its first request,
and a database that is not there does not stop it."""

import logging
import os
import subprocess
import sys
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.db import connection

from core.dbpool import open_pools
from tests.utils import BASE_DIR


def _connections(monkeypatch, *fakes):
    monkeypatch.setattr("django.db.connections.all", lambda *a, **k: list(fakes))


def test_each_pool_is_opened_and_waited_for(monkeypatch):
    opened = []
    pool = SimpleNamespace(open=lambda **kwargs: opened.append(kwargs))
    _connections(
        monkeypatch,
        SimpleNamespace(alias="default", pool=pool),
        SimpleNamespace(alias="other", pool=None),  # no pool: left alone
        SimpleNamespace(alias="sqlite"),  # no such attribute: left alone
    )
    open_pools()
    assert opened == [{"wait": True, "timeout": 10}]


def test_a_database_that_is_not_there_only_logs(monkeypatch, caplog):
    def unreachable(**kwargs):
        raise TimeoutError("couldn't get a connection after 10.00 sec")

    _connections(
        monkeypatch,
        SimpleNamespace(alias="default", pool=SimpleNamespace(open=unreachable)),
    )
    with caplog.at_level(logging.WARNING, logger="core.dbpool"):
        open_pools()  # does not raise
    assert "not ready at start" in caplog.text


@pytest.mark.django_db
@pytest.mark.skipif(
    not settings.DATABASES["default"]["OPTIONS"].get("pool"),
    reason="the pool is PostgreSQL's (DATABASE_POOL)",
)
def test_the_real_pool_has_its_minimum_ready():
    open_pools()
    stats = connection.pool.get_stats()
    minimum = settings.DATABASES["default"]["OPTIONS"]["pool"]["min_size"]
    assert stats["pool_size"] >= minimum


def test_the_wsgi_module_opens_the_pools():
    # In a process of its own, as a server loads it.
    code = (
        "import core.dbpool as d; opened = []; "
        "d.open_pools = lambda **k: opened.append(k); "
        "import marketplace.wsgi; assert opened == [{}], opened"
    )
    subprocess.run(
        [sys.executable, "-c", code],
        cwd=BASE_DIR,
        check=True,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "marketplace.settings"},
    )
