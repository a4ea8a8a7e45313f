"""A server process freezes its long-lived objects out of the garbage
collector's way: when it loads the application, and once more after its
first requests (core.gcfreeze)."""

import gc
import os
import subprocess
import sys

import pytest
from django.dispatch import Signal

from core import gcfreeze
from tests.utils import BASE_DIR


@pytest.fixture
def unfrozen():
    gc.unfreeze()
    yield
    gc.unfreeze()


def test_freezing_moves_what_is_alive_out_of_the_collections(unfrozen):
    alive = [[index] for index in range(1000)]  # tracked containers

    gcfreeze.freeze_long_lived()

    assert gc.get_freeze_count() >= len(alive)


def test_garbage_is_collected_before_freezing(unfrozen):
    cycle = []
    cycle.append(cycle)
    collected_before = gc.get_stats()[2]["collected"]
    del cycle

    gcfreeze.freeze_long_lived()

    assert gc.get_stats()[2]["collected"] > collected_before


@pytest.fixture
def request_finished(monkeypatch):
    # A signal of the test's own: Django's has receivers that touch the
    # database (close_old_connections). The real one: the last test.
    signal = Signal()
    monkeypatch.setattr(gcfreeze, "request_finished", signal)
    return signal


def test_freezes_on_load_and_once_more_after_the_warm_up(
    monkeypatch, settings, request_finished
):
    settings.GC_FREEZE = True
    freezes = []
    monkeypatch.setattr(gcfreeze, "freeze_long_lived", lambda: freezes.append(1))

    gcfreeze.freeze_after_warm_up(requests=3)
    assert len(freezes) == 1

    request_finished.send(sender=None)
    request_finished.send(sender=None)
    assert len(freezes) == 1
    request_finished.send(sender=None)
    assert len(freezes) == 2

    for _ in range(5):
        request_finished.send(sender=None)
    assert len(freezes) == 2, "only once after the warm-up"


def test_nothing_is_frozen_where_turned_off(monkeypatch, settings, request_finished):
    settings.GC_FREEZE = False
    freezes = []
    monkeypatch.setattr(gcfreeze, "freeze_long_lived", lambda: freezes.append(1))

    gcfreeze.freeze_after_warm_up(requests=1)
    request_finished.send(sender=None)

    assert freezes == []


def test_the_test_run_does_not_freeze():
    # The root conftest turns it off; this process imports marketplace.asgi.
    import marketplace.asgi  # noqa: F401

    assert gc.get_freeze_count() == 0


@pytest.mark.parametrize("module", ["marketplace.wsgi", "marketplace.asgi"])
def test_the_server_modules_freeze_when_loaded_and_after_the_warm_up(module):
    # In a process of its own, as a server loads it; then its first requests
    # end (Django's own signal, no database connection open).
    code = f"""
import gc
import core.dbpool
core.dbpool.open_pools = lambda **kwargs: None
import {module}
from core.gcfreeze import WARM_UP_REQUESTS
from django.core.signals import request_finished
loaded = gc.get_freeze_count()
assert loaded > 10000, loaded
made_on_first_use = [[index] for index in range(1000)]
for _ in range(WARM_UP_REQUESTS - 1):
    request_finished.send(sender=None)
assert gc.get_freeze_count() == loaded
request_finished.send(sender=None)
assert gc.get_freeze_count() >= loaded + 1000, (loaded, gc.get_freeze_count())
"""
    subprocess.run(
        [sys.executable, "-c", code],
        cwd=BASE_DIR,
        check=True,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "marketplace.settings"},
    )
