# The production image. Its default command serves plain HTTP with granian
# (WSGI on marketplace.wsgi, port 8000; the GRANIAN_* variables below). The
# same image serves websockets with daphne (ASGI) and runs the Celery worker
# and beat with other commands; nginx in front routes /ws/ to daphne and the
# rest to granian (deploy/nginx.conf.template). See docker-compose.yml and the
# README's "Production" section.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_READ_DOT_ENV=false

# GeoDjango's libraries (GDAL, GEOS, PROJ) and SpatiaLite for the embedded mode.
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        libgdal32 libgeos-c1v5 libproj25 libsqlite3-mod-spatialite \
    && rm -rf /var/lib/apt/lists/*

RUN useradd --system --create-home --uid 1000 --user-group app
WORKDIR /app

COPY requirements.txt .
RUN pip install -r requirements.txt

COPY . .
# Static files are collected into the image (WhiteNoise serves them). The key
# below exists only for this build step; the container refuses to start
# without a real DJANGO_SECRET_KEY.
RUN DJANGO_DEBUG=false DJANGO_SECRET_KEY=collectstatic-build-only \
        python manage.py collectstatic --noinput -v 0 \
    && mkdir -p /app/media /app/var \
    && chown app:app /app/media /app/var

USER app
EXPOSE 8000

# granian and daphne both listen on 8000 in their containers, so one check
# serves both.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]

# The web server, granian (docs/infrastructure.md, "Edge proxy"), set by its
# own variables, so compose or `docker run -e` change them without a new
# command (tests/edge.py starts the test's and the benchmark's server from
# these lines):
#   GRANIAN_WORKERS           processes, about one per core. Each has its own
#                             database pool: workers x DATABASE_POOL_MAX_SIZE
#                             x containers < PostgreSQL's max_connections.
#   GRANIAN_BLOCKING_THREADS  requests a process runs at once; 1 gave the best
#                             tail latency on two cores (2: detail p99 43 ms
#                             at 963 req/s; 1: 19.5 ms at 1,433 req/s).
#   GRANIAN_RESPAWN_FAILED_WORKERS  a worker that dies is started again.
#   GRANIAN_WORKERS_KILL_TIMEOUT    on SIGTERM, seconds the workers get to
#                             finish their requests before they are killed
#                             (compose's stop_grace_period for `web` is longer).
#   GRANIAN_LOG_LEVEL         the server's own messages, on stdout. No access
#                             log (GRANIAN_LOG_ACCESS_ENABLED, off): nginx
#                             writes it.
ENV GRANIAN_HOST=0.0.0.0 \
    GRANIAN_PORT=8000 \
    GRANIAN_WORKERS=2 \
    GRANIAN_BLOCKING_THREADS=1 \
    GRANIAN_RESPAWN_FAILED_WORKERS=true \
    GRANIAN_WORKERS_KILL_TIMEOUT=20 \
    GRANIAN_LOG_LEVEL=info

# The options that must not change with the environment: WSGI, no websockets
# (daphne serves /ws/), HTTP/1.1 only (what nginx speaks upstream). An idle
# keep-alive connection is closed after the header read timeout (30 s, in
# milliseconds); nginx drops its idle upstream connections sooner
# (deploy/nginx.conf.template, upstream keepalive_timeout), so a request
# never goes out on a connection granian is closing.
# Websockets (the `ws` service):
#   daphne -b 0.0.0.0 -p 8000 --proxy-headers marketplace.asgi:application
CMD ["granian", "--interface", "wsgi", "--no-ws", "--http", "1", "--http1-header-read-timeout", "30000", "marketplace.wsgi:application"]
