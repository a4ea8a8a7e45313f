#!/usr/bin/env bash
# Installs what the project needs on Debian/Ubuntu, idempotently:
#   system packages for GeoDjango (GDAL, GEOS, PROJ, SpatiaLite),
#   a virtualenv in .venv from a Python that can load SQLite extensions,
#   the pip requirements (runtime, or dev with --dev),
#   Debian's Chromium for the browser tests (with --dev).
# Fails early with a clear message when something cannot be installed.
set -euo pipefail
cd "$(dirname "$0")/.."

DEV=0
[ "${1:-}" = "--dev" ] && DEV=1

say() { printf '\033[1;33m==> %s\033[0m\n' "$*"; }
die() { printf '\033[1;31mError: %s\033[0m\n' "$*" >&2; exit 1; }

APT_PACKAGES=(gdal-bin libgdal-dev libsqlite3-mod-spatialite binutils libproj-dev python3-venv python3-dev gcc)
[ "$DEV" = 1 ] && APT_PACKAGES+=(chromium chromium-driver fonts-dejavu-core)

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  command -v apt-get >/dev/null || die "apt-get not found: install ${missing[*]} with your package manager."
  SUDO=""
  if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null || die "need root or sudo to install: ${missing[*]}"
    SUDO="sudo"
  fi
  say "Installing system packages: ${missing[*]}"
  $SUDO apt-get update -qq || die "apt-get update failed"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null \
    || die "apt-get install ${missing[*]} failed"
fi

# The system Python: pyenv/asdf builds often cannot load SQLite extensions.
PYTHON=${PYTHON:-/usr/bin/python3}
[ -x "$PYTHON" ] || die "$PYTHON not found (apt-get install python3)."
"$PYTHON" - <<'PY' || die "$PYTHON cannot load SQLite extensions (SpatiaLite); set PYTHON= to one that can."
import sqlite3
conn = sqlite3.connect(":memory:")
conn.enable_load_extension(True)
conn.load_extension("mod_spatialite")
PY

if [ ! -x .venv/bin/python ]; then
  say "Creating .venv with $PYTHON"
  "$PYTHON" -m venv .venv || die "could not create the virtualenv (apt-get install python3-venv)"
fi

REQS=requirements.txt
[ "$DEV" = 1 ] && REQS=requirements-dev.txt
stamp=".venv/.installed-$(sha1sum requirements.txt requirements-dev.txt | sha1sum | cut -c1-12)-$DEV"
if [ ! -f "$stamp" ]; then
  say "Installing Python packages from $REQS"
  .venv/bin/pip install -q --disable-pip-version-check --upgrade pip >/dev/null
  .venv/bin/pip install -q --disable-pip-version-check -r "$REQS" \
    || die "pip install -r $REQS failed"
  rm -f .venv/.installed-*
  touch "$stamp"
  # A dev install also satisfies a runtime one.
  [ "$DEV" = 1 ] && touch "${stamp%-1}-0"
fi
