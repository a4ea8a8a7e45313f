#!/usr/bin/env bash
# Runs the whole test suite in two passes:
#   1. on the embedded default (SpatiaLite, in-memory channel layer, local-memory
#      cache), browser tests included;
#   2. on PostGIS + Redis, every test except the browser ones, when
#      DATABASE_URL=postgis://... and REDIS_URL=redis://... are set.
# Extra arguments go to pytest in both passes (a -m of yours replaces ours).
# Pass 1 runs on TEST_WORKERS pytest-xdist workers: by default 2 for the whole
# suite, 1 (serial) when you pass arguments, where start-up would dominate.
# Pass 2 runs in one process: its tests clear the shared Redis between tests.
set -uo pipefail
cd "$(dirname "$0")/.."

say() { printf '\033[1;33m==> %s\033[0m\n' "$*"; }
die() { printf '\033[1;31mError: %s\033[0m\n' "$*" >&2; exit 1; }
# A URL without its credentials, for the log.
masked() { if [[ "$1" == *@* ]]; then echo "${1%%://*}://...@${1#*@}"; else echo "$1"; fi; }

./scripts/bootstrap.sh --dev || exit 1
PY=.venv/bin/python
export DJANGO_READ_DOT_ENV=false CELERY_TASK_ALWAYS_EAGER=true

RESULTS=test-results
mkdir -p "$RESULTS"
rm -f "$RESULTS"/*.png "$RESULTS"/*.html

DEFAULT_WORKERS=2
[ $# -gt 0 ] && DEFAULT_WORKERS=1
WORKERS=${TEST_WORKERS:-$DEFAULT_WORKERS}
[[ "$WORKERS" =~ ^[0-9]+$ ]] && [ "$WORKERS" -ge 1 ] || die "TEST_WORKERS must be a number >= 1."
XDIST=()
[ "$WORKERS" -gt 1 ] && XDIST=(-n "$WORKERS")

failed=()
ran=0
run_pass() {  # run_pass NAME COMMAND...: runs pytest, records the outcome
  local name=$1 started=$SECONDS rc=0
  shift
  "$@" || rc=$?
  case $rc in
    0) ran=1; say "$name: passed in $((SECONDS - started))s" ;;
    5) say "$name: no tests selected (pytest exit 5)" ;;
    *) failed+=("$name (pytest exit $rc)") ;;
  esac
}

PASS2=0
if [ -n "${DATABASE_URL:-}" ] && [ -n "${REDIS_URL:-}" ]; then
  PASS2=1
  [[ "$DATABASE_URL" == postgis://* ]] \
    || die "pass 2 needs DATABASE_URL=postgis://user@host:port/name (got ${DATABASE_URL%%://*}://...)."
  # Fail early and clearly when a service is not there.
  "$PY" - <<'PY' || die "pass 2 would fail: see the line above."
import os, sys
import django
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "marketplace.settings")
django.setup()
from django.core.cache import cache
from django.db import connection
try:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'postgis'")
        if cursor.fetchone() is None:
            sys.exit("PostGIS is not installed in this PostgreSQL "
                     "(apt-get install postgresql-<major>-postgis-3).")
except Exception as exc:
    sys.exit(f"cannot use the database at DATABASE_URL: {exc}")
try:
    cache.set("test.sh:ping", "1", 5)
except Exception as exc:
    sys.exit(f"cannot use Redis at REDIS_URL: {exc}")
PY
fi

say "Pass 1: embedded default (SpatiaLite, in-memory channel layer and cache)"
run_pass "Pass 1" env -u DATABASE_URL -u REDIS_URL -u CELERY_BROKER_URL \
  -u AWS_STORAGE_BUCKET_NAME -u AWS_S3_ENDPOINT_URL -u EMAIL_URL \
  "$PY" -m pytest "${XDIST[@]}" "$@"

if [ "$PASS2" = 1 ]; then
  say "Pass 2: PostGIS + Redis ($(masked "$DATABASE_URL"), $(masked "$REDIS_URL"))"
  run_pass "Pass 2" "$PY" -m pytest -m "not browser" "$@"
elif [ -n "${DATABASE_URL:-}${REDIS_URL:-}" ]; then
  say "Pass 2 skipped: it needs both DATABASE_URL=postgis://... and REDIS_URL=redis://..."
else
  say "Pass 2 skipped: set DATABASE_URL=postgis://... and REDIS_URL=redis://... to run it."
fi

shots=$(find "$RESULTS" -maxdepth 1 -name '*.png' | wc -l)
if [ "$shots" -gt 0 ]; then
  say "Screenshots of failing browser tests ($shots): $(pwd)/$RESULTS/"
fi
if [ ${#failed[@]} -gt 0 ]; then
  printf '\033[1;31mFailed: %s\033[0m\n' "${failed[*]}" >&2
  exit 1
fi
if [ "$ran" = 0 ]; then
  printf '\033[1;31mNo tests were selected in any pass.\033[0m\n' >&2
  exit 5
fi
