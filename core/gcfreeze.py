"""Keep the cyclic garbage collector off a server process's long-lived objects.

A loaded worker holds some 170,000 objects that live as long as it does
(modules, URL resolvers, DRF fields, compiled statements). Every full
(generation 2) collection walks all of them: about 60 ms on these machines,
every couple of thousand requests per worker, and every request queued
behind it in that worker waits that long (bench/FINDINGS.md, 14).
`gc.freeze()` moves the objects alive at that
moment into a permanent generation that collections skip: a full
collection then takes about 7 ms.

Reference counting still frees a frozen object; only a reference cycle among
frozen objects that turns into garbage later is never reclaimed. So the
freeze happens twice, not at every collection: when the application has
been loaded, and once more after the process's first requests have built
the state that is made on first use (URL resolvers, serializers, compiled
statements).
"""

from __future__ import annotations

import gc
import threading

from django.conf import settings
from django.core.signals import request_finished

# Enough for the lazily built state of the usual pages and API calls.
WARM_UP_REQUESTS = 200


def freeze_long_lived() -> None:
    """Collect what is garbage now, then freeze everything still alive."""
    gc.collect()
    gc.freeze()


def freeze_after_warm_up(requests: int = WARM_UP_REQUESTS) -> None:
    """Freeze now (the application is loaded) and once more when this process
    has finished `requests` requests. Called where a server loads the
    application (marketplace.wsgi, marketplace.asgi); nothing where
    `settings.GC_FREEZE` is off (the test run)."""
    if not settings.GC_FREEZE:
        return
    freeze_long_lived()
    remaining = requests
    lock = threading.Lock()

    def on_request_finished(sender, **kwargs):
        nonlocal remaining
        with lock:
            remaining -= 1
            if remaining != 0:
                return
        request_finished.disconnect(on_request_finished)
        freeze_long_lived()

    request_finished.connect(on_request_finished, weak=False)
