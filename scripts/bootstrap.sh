#!/usr/bin/env bash
# Installs what the project needs on Debian 12 / Ubuntu, idempotently:
#   system libraries for GeoDjango (GDAL, GEOS, PROJ, SpatiaLite),
#   a virtualenv in .venv from a Python that can load SQLite extensions,
#   the pinned pip requirements (runtime, or dev with --dev),
#   Debian's Chromium and fonts (emoji too) for the browser tests (with --dev).
# Never asks questions; fails early with a clear message.
set -euo pipefail
cd "$(dirname "$0")/.."

DEV=0
case "${1:-}" in
  "") ;;
  --dev) DEV=1 ;;
  *) echo "usage: $0 [--dev]" >&2; exit 2 ;;
esac

say() { printf '\033[1;33m==> %s\033[0m\n' "$*"; }
die() { printf '\033[1;31mError: %s\033[0m\n' "$*" >&2; exit 1; }

# Runtime libraries only: Django finds GDAL/GEOS through ldconfig, no -dev
# packages needed. python3-dev and gcc are for the rare wheel-less package.
APT_PACKAGES=(gdal-bin libsqlite3-mod-spatialite binutils python3 python3-venv python3-dev gcc)
# Chromium for the browser tests; fonts so its screenshots show text and the
# category icons (emoji) instead of boxes.
[ "$DEV" = 1 ] && APT_PACKAGES+=(chromium fonts-dejavu-core fonts-noto-color-emoji)

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  command -v apt-get >/dev/null \
    || die "apt-get not found. Install these (or your system's equivalents) first: ${missing[*]}"
  SUDO=()
  if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null || die "need root or sudo to install: ${missing[*]}"
    SUDO=(sudo)
    # In CI there is nobody to type a password.
    if [ -n "${CI:-}" ] || [ ! -t 0 ]; then SUDO=(sudo -n); fi
  fi
  # Wait for another apt (unattended-upgrades on a fresh machine) instead of failing.
  APT=("${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 -y -qq)
  say "Installing system packages: ${missing[*]}"
  "${APT[@]}" update >/dev/null || die "apt-get update failed (network? sources.list?)"
  "${APT[@]}" install --no-install-recommends "${missing[@]}" >/dev/null \
    || die "apt-get install ${missing[*]} failed"
fi

# The system Python: pyenv/asdf builds often cannot load SQLite extensions.
PYTHON=${PYTHON:-/usr/bin/python3}
[ -x "$PYTHON" ] || die "$PYTHON not found (apt-get install python3, or set PYTHON=)."
can_load_spatialite() {
  "$1" - <<'PY' 2>/dev/null
import sqlite3, sys
assert sys.version_info >= (3, 11), "Python 3.11+ needed"
conn = sqlite3.connect(":memory:")
conn.enable_load_extension(True)
conn.load_extension("mod_spatialite")
PY
}
can_load_spatialite "$PYTHON" \
  || die "$PYTHON is older than 3.11 or cannot load SQLite extensions (SpatiaLite); set PYTHON= to one that can, e.g. Debian's /usr/bin/python3."

if [ -e .venv ] && ! can_load_spatialite .venv/bin/python; then
  die ".venv exists but its Python cannot load SpatiaLite (made from another Python?). Remove it (rm -rf .venv) and run again."
fi
if [ ! -x .venv/bin/python ]; then
  say "Creating .venv with $PYTHON"
  "$PYTHON" -m venv .venv || die "could not create the virtualenv (apt-get install python3-venv)"
fi

# Reinstall only when the requirement files change. A dev install also
# satisfies a runtime one.
hash=$(sha1sum requirements.txt requirements-dev.txt | sha1sum | cut -c1-12)
stamp=".venv/.installed-$hash"
if [ ! -f "$stamp-$DEV" ] && { [ "$DEV" = 1 ] || [ ! -f "$stamp-1" ]; }; then
  REQS=requirements.txt
  [ "$DEV" = 1 ] && REQS=requirements-dev.txt
  say "Installing Python packages from $REQS"
  .venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip \
    || die "could not upgrade pip in .venv"
  .venv/bin/python -m pip install -q --disable-pip-version-check -r "$REQS" \
    || die "pip install -r $REQS failed (see above)"
  rm -f .venv/.installed-*
  touch "$stamp-$DEV"
  if [ "$DEV" = 1 ]; then touch "$stamp-0"; fi
fi
exit 0
