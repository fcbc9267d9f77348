#!/usr/bin/env bash
# The whole test suite, exactly as CI runs it: dependencies, services, type check, then every
# test (HTTP and WebSocket on both transports, fault tests, process and Deno smoke tests).
set -euo pipefail
cd "$(dirname "$0")/.."

# `npm install` rather than `npm ci`: npm 11 leaves other platforms' optional binaries (deno,
# msgpackr) out of the lock file, which `npm ci` then rejects; the lock still pins every version
npm install --no-audit --no-fund
bash scripts/services.sh
# the browser tests drive Debian's Chromium through playwright-core (which downloads no browser)
if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" -eq 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium
  else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; fi
fi
npm run build:web
npx tsc --noEmit -p .
npx vitest run
