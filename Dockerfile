# The production image. Its default command serves plain HTTP with gunicorn
# (deploy/gunicorn.conf.py: threaded WSGI workers on marketplace.wsgi, port
# 8000). The same image serves websockets with daphne (ASGI) and runs the
# Celery worker and beat with other commands; nginx in front routes /ws/ to
# daphne and the rest to gunicorn (deploy/nginx.conf.template). See
# docker-compose.yml and the README's "Production" section.
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

# gunicorn and daphne both listen on 8000 in their containers, so one check
# serves both.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]

# Websockets (the `ws` service):
#   daphne -b 0.0.0.0 -p 8000 --proxy-headers marketplace.asgi:application
CMD ["gunicorn", "--config", "deploy/gunicorn.conf.py"]
