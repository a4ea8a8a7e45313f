#!/usr/bin/env bash
# The newcomer's command: install what is missing, migrate, load demo data and
# serve the site (daphne: HTTP + websockets) on http://$HOST:$PORT.
# Idempotent: run it again any time. HOST (127.0.0.1) and PORT (8000) may be set.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\033[1;33m==> %s\033[0m\n' "$*"; }
die() { printf '\033[1;31mError: %s\033[0m\n' "$*" >&2; exit 1; }

HOST=${HOST:-127.0.0.1}
PORT=${PORT:-8000}
[[ "$PORT" =~ ^[0-9]+$ ]] || die "PORT must be a number, not '$PORT'."

./scripts/bootstrap.sh
PY=.venv/bin/python

# Before the slow steps: is the address free?
"$PY" - "$HOST" "$PORT" 2>/dev/null <<'PY' || die "cannot listen on $HOST:$PORT: in use (stop what runs there or pick another: PORT=8001 $0) or not an address of this machine."
import socket, sys
with socket.socket() as sock:
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((sys.argv[1], int(sys.argv[2])))
PY

say "Migrating the database"
"$PY" manage.py migrate --noinput
say "Loading demo data (only what is missing)"
"$PY" manage.py seed_demo
# Two answers from the settings (which also read .env): DEBUG and REDIS_URL.
# --no-imports: without it Django 5.2's shell first prints "N objects imported
# automatically", and `read` took that line for the answer.
read -r DEBUG HAS_REDIS < <("$PY" manage.py shell --no-imports -c \
  'from django.conf import settings; print(settings.DEBUG, bool(settings.REDIS_URL))')
# With DEBUG off (a .env for production-like tries) static files are served by
# WhiteNoise from STATIC_ROOT, so they must be collected first.
if [ "$DEBUG" = False ]; then
  say "Collecting static files (DEBUG is off)"
  "$PY" manage.py collectstatic --noinput -v 0
fi

URL="http://$HOST:$PORT"
echo
echo "Site: $URL/   Admin: $URL/admin/   API docs: $URL/api/docs/   Health: $URL/healthz"
if [ "$HAS_REDIS" = True ]; then
  # With Redis, `celery -A marketplace worker` and `celery -A marketplace beat`
  # run the jobs (started separately, as in production).
  exec "$PY" manage.py runserver "$HOST:$PORT"
fi

# Embedded default: no Celery beat, so the periodic jobs (expiring listings,
# digests, ...) run in a process of their own next to the server, and stop
# with it. The server gets a process group of its own (setsid), so that one
# signal stops both its autoreloader and the child that serves.
say "Starting the periodic jobs in the background (manage.py run_periodic_jobs)"
"$PY" manage.py run_periodic_jobs &
JOBS_PID=$!
setsid "$PY" manage.py runserver "$HOST:$PORT" &
SERVER_PID=$!
stop_all() {
  kill -TERM -- "-$SERVER_PID" 2>/dev/null || true
  kill -TERM "$JOBS_PID" 2>/dev/null || true
  wait 2>/dev/null || true
}
trap stop_all EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
wait "$SERVER_PID"
