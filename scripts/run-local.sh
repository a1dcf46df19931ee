#!/usr/bin/env bash
# Sets up and runs card-server on a throwaway local PostgreSQL: installs missing
# packages, builds, starts PostgreSQL in a temporary directory (Unix socket only),
# and serves gRPC on 127.0.0.1:50051 until Ctrl-C, then removes the database.
#   LISTEN=127.0.0.1:6000 bash scripts/run-local.sh   # another address
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j2 --target card-server

pg_dir=$(mktemp -d /tmp/card-local-pg.XXXXXX)
server_pid=
cleanup() {
  # Ctrl-C or SIGTERM: let the server drain, then remove the database.
  [ -n "$server_pid" ] && kill -TERM "$server_pid" 2>/dev/null && wait "$server_pid"
  bash scripts/throwaway-pg.sh stop "$pg_dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
DATABASE_URL=$(bash scripts/throwaway-pg.sh start "$pg_dir" 5432)
export DATABASE_URL
echo "PostgreSQL: psql '$DATABASE_URL'" >&2
./build/server/card-server --listen="${LISTEN:-127.0.0.1:50051}" "$@" &
server_pid=$!
wait "$server_pid"
