#!/usr/bin/env bash
# Makes sure PostgreSQL, Redis and NATS JetStream answer on loopback at their standard ports.
# A service already listening is reused as it is. A missing one is installed with apt-get where
# possible and started on 127.0.0.1 with its data under .services/ in the project.
# Run by setup.sh and test.sh; safe to run again (it only starts what is not listening).
# SERVICES_PG_PORT / SERVICES_REDIS_PORT / SERVICES_NATS_PORT change the ports (for trying it out).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SERVICES="$ROOT/.services"
mkdir -p "$SERVICES"

listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_port() {
  local port=$1 name=$2
  for _ in $(seq 1 100); do listening "$port" && return 0; sleep 0.2; done
  echo "services: $name did not start on 127.0.0.1:$port; see $SERVICES/$name.log" >&2
  exit 1
}

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

apt_install() {
  echo "services: installing $* with apt-get"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

ensure_postgres() {
  local port=$1
  if listening "$port"; then echo "services: postgresql on 127.0.0.1:$port (reused)"; return; fi
  local bin
  bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1 || true)"
  if [ -z "$bin" ]; then apt_install postgresql; bin="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n1)"; fi
  local data="$SERVICES/postgres"
  # PostgreSQL refuses to run as root: run it as the postgres user, data still under the project
  local run=()
  if [ "$(id -u)" = 0 ]; then run=(runuser -u postgres --); chown postgres "$SERVICES"; fi
  if [ ! -f "$data/PG_VERSION" ]; then
    mkdir -p "$data"; [ "$(id -u)" = 0 ] && chown postgres "$data"
    "${run[@]}" "$bin/initdb" -D "$data" -U postgres --auth=trust >"$SERVICES/postgres-init.log"
  fi
  "${run[@]}" "$bin/pg_ctl" -D "$data" -l "$SERVICES/postgres.log" -w \
    -o "-h 127.0.0.1 -p $port -k $data" start >/dev/null
  wait_port "$port" postgres
  echo "services: postgresql started on 127.0.0.1:$port (data in .services/postgres)"
}

ensure_redis() {
  local port=$1
  if listening "$port"; then echo "services: redis on 127.0.0.1:$port (reused)"; return; fi
  command -v redis-server >/dev/null || apt_install redis-server
  mkdir -p "$SERVICES/redis"
  redis-server --daemonize yes --bind 127.0.0.1 --port "$port" --dir "$SERVICES/redis" \
    --save "" --appendonly no --logfile "$SERVICES/redis.log"
  wait_port "$port" redis
  echo "services: redis started on 127.0.0.1:$port"
}

ensure_nats() {
  local port=$1
  if listening "$port"; then echo "services: nats on 127.0.0.1:$port (reused)"; return; fi
  command -v nats-server >/dev/null || apt_install nats-server
  mkdir -p "$SERVICES/nats"
  # nats.conf puts the JetStream store at ./.services/nats, relative to the project root
  (cd "$ROOT" && nohup nats-server -c nats.conf -a 127.0.0.1 -p "$port" -m 0 \
    >"$SERVICES/nats.log" 2>&1 &)
  wait_port "$port" nats
  echo "services: nats with jetstream started on 127.0.0.1:$port (store in .services/nats)"
}

ensure_postgres "${SERVICES_PG_PORT:-5432}"
ensure_redis "${SERVICES_REDIS_PORT:-6379}"
ensure_nats "${SERVICES_NATS_PORT:-4222}"
