#!/usr/bin/env bash
# The whole test suite, exactly as CI runs it: dependencies, services, type check, then every
# test (HTTP and WebSocket on both transports, fault tests, process and Deno smoke tests).
set -euo pipefail
cd "$(dirname "$0")/.."

# `npm install` rather than `npm ci`: npm 11 leaves other platforms' optional binaries (deno,
# msgpackr) out of the lock file, which `npm ci` then rejects; the lock still pins every version
npm install --no-audit --no-fund
bash scripts/services.sh
npx tsc --noEmit -p .
npx vitest run
