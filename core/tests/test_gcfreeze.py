"""A server process freezes its long-lived objects out of the garbage
collector's way: when it loads the application, and once more after its
first requests (core.gcfreeze)."""

import gc
import os
import subprocess
import sys

import pytest
from django.core.signals import request_finished

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


def test_freezes_on_load_and_once_more_after_the_warm_up(monkeypatch, settings):
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


def test_nothing_is_frozen_where_turned_off(monkeypatch, settings):
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
def test_the_server_modules_freeze_when_loaded(module):
    # In a process of its own, as a server loads it.
    code = (
        "import gc; import core.dbpool as d; d.open_pools = lambda **k: None; "
        f"import {module}; assert gc.get_freeze_count() > 10000, gc.get_freeze_count()"
    )
    subprocess.run(
        [sys.executable, "-c", code],
        cwd=BASE_DIR,
        check=True,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "marketplace.settings"},
    )
