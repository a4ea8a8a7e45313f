"""deploy/gunicorn.conf.py opens a worker's database pool before its first
request (post_worker_init), and a database that is not there does not stop
the worker."""

import logging
import runpy
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.db import connection

from tests.utils import BASE_DIR

post_worker_init = runpy.run_path(str(BASE_DIR / "deploy" / "gunicorn.conf.py"))[
    "post_worker_init"
]


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
    post_worker_init(None)
    assert opened == [{"wait": True, "timeout": 10}]


def test_a_database_that_is_not_there_only_logs(monkeypatch, caplog):
    def unreachable(**kwargs):
        raise TimeoutError("couldn't get a connection after 10.00 sec")

    _connections(
        monkeypatch,
        SimpleNamespace(alias="default", pool=SimpleNamespace(open=unreachable)),
    )
    with caplog.at_level(logging.WARNING, logger="gunicorn.error"):
        post_worker_init(None)  # does not raise
    assert "not ready at worker start" in caplog.text


@pytest.mark.django_db
@pytest.mark.skipif(
    not settings.DATABASES["default"]["OPTIONS"].get("pool"),
    reason="the pool is PostgreSQL's (DATABASE_POOL)",
)
def test_the_real_pool_has_its_minimum_ready():
    post_worker_init(None)
    stats = connection.pool.get_stats()
    minimum = settings.DATABASES["default"]["OPTIONS"]["pool"]["min_size"]
    assert stats["pool_size"] >= minimum
