#!/usr/bin/env bash
# Runs the whole test suite: first on the embedded default (SpatiaLite,
# in-memory channel layer, local-memory cache), then again on PostGIS + Redis
# when DATABASE_URL and REDIS_URL point at them. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/bootstrap.sh --dev
PYTEST=(.venv/bin/python -m pytest "$@")
export DJANGO_READ_DOT_ENV=false CELERY_TASK_ALWAYS_EAGER=true
mkdir -p test-results

echo "==> Pass 1: embedded default (SpatiaLite, in-memory layers)"
env -u DATABASE_URL -u REDIS_URL -u AWS_STORAGE_BUCKET_NAME "${PYTEST[@]}"

if [ -n "${DATABASE_URL:-}" ] && [ -n "${REDIS_URL:-}" ]; then
  echo "==> Pass 2: PostGIS + Redis ($DATABASE_URL, $REDIS_URL)"
  "${PYTEST[@]}" -m "not browser or services"
else
  echo "==> Pass 2 skipped: set DATABASE_URL=postgis://... and REDIS_URL=redis://... to run it."
fi
