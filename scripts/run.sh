#!/usr/bin/env bash
# The newcomer's command: install, migrate, load demo data, serve on :8000.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/bootstrap.sh
PY=.venv/bin/python
$PY manage.py migrate --noinput
$PY manage.py seed_demo
echo
echo "Site: http://127.0.0.1:8000   Admin: http://127.0.0.1:8000/admin/   API docs: http://127.0.0.1:8000/api/docs/"
exec $PY manage.py runserver "${HOST:-127.0.0.1}:${PORT:-8000}"
