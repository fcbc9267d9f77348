#!/usr/bin/env bash
# Run the app on a fresh Debian/Ubuntu machine with Node 20 or newer (README, "Node versions"):
# install dependencies, make sure PostgreSQL, Redis and NATS JetStream are there, then serve on
# http://localhost:8080
# (migrations and the JetStream topology are applied by the server as it starts).
set -euo pipefail
cd "$(dirname "$0")/.."

major="$(node -p 'process.versions.node.split(".")[0]')"
if [ "$major" -lt 20 ]; then echo "setup: Node.js 20 or newer is required (found $(node -v))" >&2; exit 1; fi

# exactly what the lock file pins (npm ci), and again whenever the lock changes
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
bash scripts/services.sh
export PORT="${PORT:-8080}"
exec npm start
