#!/usr/bin/env bash
# Tools the browser, interop and deployment tests need: Debian's Chromium (Playwright drives it;
# no browser download), a Compose client (tests/deploy validates docker-compose.yml with it; no
# engine needed) and the npm packages of tests/interop and tests/browser (from their locks).
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

if ! { command -v docker >/dev/null 2>&1 && docker compose version >/dev/null 2>&1; } \
  && ! command -v docker-compose >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1; then
    echo "Installing Debian's docker-compose to validate docker-compose.yml"
    (apt-get install -y -q docker-compose >/dev/null 2>&1) || (apt-get update -q >/dev/null && apt-get install -y -q docker-compose >/dev/null)
  else
    echo "No Compose client: install Docker's compose plugin or Debian's 'docker-compose'" >&2
    exit 1
  fi
fi

# npm packages from their lock files: tests/interop (the MCP TypeScript SDKs) and tests/browser
# (axe-core, the accessibility checks).
for dir in tests/interop tests/browser; do
  if [ -f "$dir/package-lock.json" ]; then
    if [ ! -d "$dir/node_modules" ] || [ "$dir/package-lock.json" -nt "$dir/node_modules" ]; then
      (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
      touch "$dir/node_modules"
    fi
  fi
done
