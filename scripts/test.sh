#!/usr/bin/env bash
# The whole test suite, exactly as CI runs it: the lock file checked, dependencies installed from
# it, services, type check, then every test (HTTP and WebSocket on both transports, fault tests,
# process, build and Deno smoke tests).
set -euo pipefail
cd "$(dirname "$0")/.."

# the lock must be exactly what `npm install` would write (complete, every platform's optional
# packages, in step with package.json); checked on a copy, so the working tree is never touched
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
cp package.json package-lock.json "$scratch/"
(cd "$scratch" && npm install --package-lock-only --ignore-scripts --no-audit --no-fund >/dev/null)
if ! cmp -s package-lock.json "$scratch/package-lock.json"; then
  echo "test: package-lock.json is not what \`npm install\` writes for package.json. Run" >&2
  echo "test: \`npm install --package-lock-only\` in a copy without node_modules (so every platform's" >&2
  echo "test: optional packages stay listed) and commit the lock. What npm would change:" >&2
  diff -u package-lock.json "$scratch/package-lock.json" | head -n 40 >&2 || true
  exit 1
fi
npm ci --no-audit --no-fund
bash scripts/services.sh
# the browser tests drive Debian's Chromium through playwright-core (which downloads no browser)
if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" -eq 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium
  else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; fi
fi
# the Node LTS of the production image, from the npm registry into .services/: test/build.test.ts
# starts the compiled server on it as well as on this machine's Node
lts_node="$(npx tsx scripts/lts-node.ts)"
echo "test: $("$lts_node" -v) for the build test at $lts_node"
npm run build
npx tsc --noEmit -p .
npx vitest run
