#!/usr/bin/env bash
# Installs what `make build` and `make test` need and are missing:
# npm packages from the committed package-lock.json, and Chromium for the
# e2e tests. On Debian as root it installs Chromium itself; elsewhere it says
# exactly what to install. Set EVENTWIRE_CHROMIUM to use another browser binary.
set -euo pipefail
cd "$(dirname "$0")/.."

need() { command -v "$1" >/dev/null 2>&1 || { echo "install-deps: $1 not found: $2" >&2; exit 1; }; }
need go   "install Go 1.26 or newer"
need node "install Node.js 20 or newer (with npm)"
need npm  "install npm (it ships with Node.js)"

# npm ci when node_modules is missing or older than the lock file.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "install-deps: npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi

[ "${1:-}" = "--no-browser" ] && exit 0

find_browser() {
  if [ -n "${EVENTWIRE_CHROMIUM:-}" ]; then
    [ -x "$EVENTWIRE_CHROMIUM" ] && return 0
    echo "install-deps: EVENTWIRE_CHROMIUM=$EVENTWIRE_CHROMIUM is not an executable" >&2; exit 1
  fi
  for b in chromium chromium-browser google-chrome google-chrome-stable; do
    command -v "$b" >/dev/null 2>&1 && return 0
  done
  return 1
}

if ! find_browser; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "install-deps: installing Chromium (Debian package chromium)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq chromium >/dev/null
  else
    echo "install-deps: no Chromium found for the e2e tests." >&2
    echo "  Debian/Ubuntu: sudo apt-get install chromium" >&2
    echo "  or point EVENTWIRE_CHROMIUM at a Chromium or Chrome binary." >&2
    exit 1
  fi
fi
