"""The WSGI application of the `web` service (granian; see
docs/infrastructure.md). Each server process imports this module itself, so
its database pool is opened here, in that process, before its first request,
and its long-lived objects are frozen out of the garbage collector's way
(core.gcfreeze).
"""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "marketplace.settings")

application = get_wsgi_application()

from core.dbpool import open_pools  # noqa: E402 (needs the settings set up)
from core.gcfreeze import freeze_after_warm_up  # noqa: E402

open_pools()
freeze_after_warm_up()
