"""The app's settings with Django's psycopg connection pool (Django >= 5.1).

A bench variant of `marketplace.settings`, used by `run_bench.py --db-pool`,
to measure the change proposed in bench/FINDINGS.md before it is made in the
real settings. Under ASGI (daphne) Django runs each request's sync code in a
thread of its own, so CONN_MAX_AGE > 0 keeps one idle connection per finished
thread instead of reusing one; a pool hands the same few connections around.
"""

import os

from marketplace.settings import *  # noqa: F403
from marketplace.settings import DATABASES

# A pool and persistent connections exclude each other: the pool keeps them.
DATABASES["default"]["CONN_MAX_AGE"] = 0
DATABASES["default"]["OPTIONS"]["pool"] = {
    "min_size": int(os.environ.get("DATABASE_POOL_MIN_SIZE", "2")),
    "max_size": int(os.environ.get("DATABASE_POOL_MAX_SIZE", "4")),
    "timeout": 10,
}
