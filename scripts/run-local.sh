#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# SPDX-FileCopyrightText: 2026 The CardService Authors
# Sets up and runs card-server on a throwaway local PostgreSQL: installs missing
# packages, builds, starts PostgreSQL in a temporary directory (Unix socket only),
# and serves gRPC on 127.0.0.1:50051 until Ctrl-C, then removes the database.
#   LISTEN=127.0.0.1:6000 bash scripts/run-local.sh   # another address
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j2 --target card-server

# Ctrl-C or SIGTERM: exit, and the EXIT trap (scripts/lib/throwaway-server.sh)
# sends the server SIGTERM, lets it drain, then removes the database.
# shellcheck source=scripts/lib/throwaway-server.sh
source scripts/lib/throwaway-server.sh
card_env_init local-pg
trap 'exit 130' INT TERM
DATABASE_URL=$(card_pg_start 5432)
export DATABASE_URL
echo "PostgreSQL: psql '$DATABASE_URL'" >&2
# Its output goes to the terminal; started with & and waited for because bash
# runs no trap until a foreground command ends.
./build/server/card-server --listen="${LISTEN:-127.0.0.1:50051}" "$@" &
server_pid=$!
card_track "$server_pid"
code=0
wait "$server_pid" || code=$?
card_untrack "$server_pid"
exit "$code"
