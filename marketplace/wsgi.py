"""The WSGI application of the `web` service (granian; see
docs/infrastructure.md). Each server process imports this module itself, so
its database pool is opened here, in that process, before its first request.
"""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "marketplace.settings")

application = get_wsgi_application()

from core.dbpool import open_pools  # noqa: E402 (needs the settings set up)

open_pools()
