#!/usr/bin/env bash
# Tools the browser and interop tests need: Debian's Chromium (Playwright drives it; no browser
# download) and the npm packages of tests/interop (installed from the lock file).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v chromium >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1; then
    echo "Installing Debian's chromium for the browser tests"
    (apt-get install -y -q chromium >/dev/null 2>&1) || (apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null)
  else
    echo "Chromium is missing: install Debian's 'chromium' package" >&2
    exit 1
  fi
fi

if [ -f tests/interop/package-lock.json ]; then
  if [ ! -d tests/interop/node_modules ] || [ tests/interop/package-lock.json -nt tests/interop/node_modules ]; then
    (cd tests/interop && npm ci --no-audit --no-fund --loglevel=error)
    touch tests/interop/node_modules
  fi
fi
