#!/usr/bin/env bash
# Starts (or stops) a private PostgreSQL for ReaSeq: own data folder, own port, no system service.
#   scripts/pg.sh start   -> prints the connection string on stdout
#   scripts/pg.sh fresh NAME  -> (re)creates an empty database NAME and prints its connection string
#   scripts/pg.sh stop
# Settings: REASEQ_PG_DIR (default .state/pg), REASEQ_PG_PORT (default 55432).
set -euo pipefail
cmd=${1:-start}
root=$(cd "$(dirname "$0")/.." && pwd)
dir=${REASEQ_PG_DIR:-$root/.state/pg}
port=${REASEQ_PG_PORT:-55432}

find_bin() {
  local name=$1
  for d in /usr/lib/postgresql/*/bin; do [ -x "$d/$name" ] && { echo "$d/$name"; return; }; done
  command -v "$name" || true
}

if [ -z "$(find_bin initdb)" ]; then
  echo "PostgreSQL not found: installing Debian's postgresql package" >&2
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
  else
    sudo apt-get update -qq >&2 && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
  fi
fi
initdb=$(find_bin initdb); pg_ctl=$(find_bin pg_ctl)

# PostgreSQL refuses to run as root: run it as the postgres user when we are root.
as_owner() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

case "$cmd" in
  start)
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown -R postgres:postgres "$dir"
    if [ ! -f "$dir/PG_VERSION" ]; then
      as_owner "$initdb" -D "$dir" -U reaseq --auth=trust -E UTF8 >/dev/null
      cat >> "$dir/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
fsync = on
synchronous_commit = on
shared_buffers = 256MB
max_wal_size = 4GB
wal_buffers = 64MB
max_connections = 200
CONF
    fi
    if ! as_owner "$pg_ctl" -D "$dir" status >/dev/null 2>&1; then
      as_owner "$pg_ctl" -D "$dir" -l "$dir/server.log" -w -t 30 start >/dev/null
    fi
    for _ in $(seq 1 50); do
      if pg_isready -h 127.0.0.1 -p "$port" >/dev/null 2>&1; then break; fi; sleep 0.1
    done
    psql -h 127.0.0.1 -p "$port" -U reaseq -d postgres -tAc "select 1 from pg_database where datname='reaseq'" | grep -q 1 \
      || psql -h 127.0.0.1 -p "$port" -U reaseq -d postgres -qc "create database reaseq" >/dev/null
    echo "Host=127.0.0.1;Port=$port;Username=reaseq;Database=reaseq"
    ;;
  fresh)
    name=${2:?usage: $0 fresh DATABASE}
    "$0" start >/dev/null
    psql -h 127.0.0.1 -p "$port" -U reaseq -d postgres -qc "drop database if exists \"$name\" with (force)" >/dev/null
    psql -h 127.0.0.1 -p "$port" -U reaseq -d postgres -qc "create database \"$name\"" >/dev/null
    echo "Host=127.0.0.1;Port=$port;Username=reaseq;Database=$name"
    ;;
  stop)
    [ -f "$dir/PG_VERSION" ] && as_owner "$pg_ctl" -D "$dir" -m fast stop >/dev/null || true
    ;;
  *) echo "usage: $0 start|fresh NAME|stop" >&2; exit 2 ;;
esac
