"""gunicorn settings of the `web` service: plain HTTP (pages, the API, static
files through WhiteNoise, /healthz) on marketplace.wsgi.

    gunicorn --config deploy/gunicorn.conf.py      # the image's default command

Websockets are not served here: daphne (marketplace.asgi) serves /ws/, and the
edge proxy (deploy/nginx.conf.template) routes by path. gunicorn's threaded
workers cost a quarter of daphne's CPU per request (/healthz: 1.3 against
5.0 ms; a listing's API detail 7.6 against 14.6 ms; bench/README.md).

The environment sets the sizes (.env.example); command-line options win.
Each worker process has its own database connection pool
(DATABASE_POOL_MAX_SIZE), so workers x pool size x web containers must stay
below PostgreSQL's max_connections.
"""

import os

wsgi_app = "marketplace.wsgi:application"
bind = [os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")]
# Processes: about one per CPU core the container may use.
workers = int(os.environ.get("GUNICORN_WORKERS", "2"))
# gthread: each process answers `threads` requests at once, so one waiting on
# the database does not stop the others (and idle keep-alive connections
# from the proxy wait in a poller, not in a thread).
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "2"))
# A request running longer than this has its worker restarted.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 30
# The proxy keeps idle connections open for 60 s (its upstream default):
# gunicorn must not close them first, or a request can meet a closing socket.
keepalive = 75
# Only the proxy reaches gunicorn; it sets X-Forwarded-Proto. (Django reads
# the scheme and the client's address itself: SECURE_PROXY_SSL_HEADER and
# DJANGO_TRUSTED_PROXY_COUNT.)
forwarded_allow_ips = "*"
# Workers' heartbeat files on tmpfs, not on the container's overlay disk.
if os.path.isdir("/dev/shm"):  # noqa: S108
    worker_tmp_dir = "/dev/shm"  # noqa: S108
# The proxy writes the access log; errors and worker restarts go to stderr.
accesslog = None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")


def post_worker_init(worker):
    """The worker's database pool is opened by marketplace.wsgi, which each
    worker imports (core.dbpool.open_pools)."""
