# SPDX-License-Identifier: Apache-2.0
# SPDX-FileCopyrightText: 2026 The CardService Authors
# shellcheck shell=bash
# Sourced, not run: the preamble shared by the bash scripts that run
# card-server on a throwaway PostgreSQL (scripts/load-test.sh,
# scripts/run-local.sh, deploy/local-cluster,
# tests/metrics/prometheus_scrape_test.sh). The Python tools and tests have the
# same in scripts/cardlib/workspace.py.
#
# It owns one work directory /tmp/card-NAME.XXXXXX per run, the PostgreSQL
# cluster in WORK/pg (scripts/throwaway-pg.sh), the background processes it is
# told about, and the EXIT trap that kills those processes (SIGTERM, then waits:
# card-server drains), stops the cluster and deletes the work directory. Bash
# runs that trap on a normal exit, on an error under `set -e` and on Ctrl-C, so
# nothing is left behind. One copy of this, so that a fix reaches every script.
#
#   source scripts/lib/throwaway-server.sh
#   card_env_init load                      # CARD_WORK=/tmp/card-load.XXXXXX
#   url=$(card_pg_start 5498)
#   card_server_start server "$build/server/card-server" --database_url="$url"
#   ... use $CARD_SERVER_PORT, $CARD_SERVER_PID, $CARD_WORK/server.log ...
#
# The caller keeps its own `set -euo pipefail`; these functions change no shell
# option and report failure through their status.

CARD_SCRIPTS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CARD_WORK=
CARD_PIDS=()

# card_env_init NAME: makes the work dir $CARD_WORK (/tmp/card-NAME.XXXXXX) and installs the EXIT trap.
card_env_init() {
  CARD_WORK=$(mktemp -d "/tmp/card-$1.XXXXXX") || return 1
  chmod 755 "$CARD_WORK"  # PostgreSQL runs as postgres and must reach its directory
  trap card_cleanup EXIT
}

# card_cleanup: the EXIT trap; SIGTERMs and reaps the tracked pids, stops the cluster, deletes $CARD_WORK.
card_cleanup() {
  local pid
  for pid in "${CARD_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${CARD_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  CARD_PIDS=()
  if [ -n "$CARD_WORK" ]; then
    if [ -f "$CARD_WORK/pgbouncer/pgbouncer.pid" ]; then
      kill "$(cat "$CARD_WORK/pgbouncer/pgbouncer.pid")" 2>/dev/null || true
    fi
    bash "$CARD_SCRIPTS_DIR/throwaway-pg.sh" stop "$CARD_WORK/pg" >/dev/null 2>&1 || true
    rm -rf "$CARD_WORK"
  fi
}

# card_pg_start PORT: starts a throwaway PostgreSQL in $CARD_WORK/pg (socket port PORT); prints its URL.
card_pg_start() {
  bash "$CARD_SCRIPTS_DIR/throwaway-pg.sh" start "$CARD_WORK/pg" "$1"
}

# card_dev_mtls: throwaway certificates in $CARD_WORK/certs (scripts/make-dev-certs.sh) for the
# deployed set-up, and the flags that use them: CARD_MTLS_SERVER (card-server: mutual TLS and the
# shipped policy deploy/authz/policy.json), CARD_TLS_CLIENT (a client without a certificate),
# CARD_AS_GATEWAY and CARD_AS_RENDERER (cardctl/card-stress calling as the API gateway, which may
# call everything, and as the profile renderer, which may only read).
card_dev_mtls() {
  local certs=$CARD_WORK/certs
  bash "$CARD_SCRIPTS_DIR/make-dev-certs.sh" "$certs" || return 1
  CARD_MTLS_SERVER=(--tls_cert_file="$certs/server.crt" --tls_key_file="$certs/server.key"
    --tls_client_ca_file="$certs/ca.crt"
    --authz_policy_file="$CARD_SCRIPTS_DIR/../deploy/authz/policy.json")
  CARD_TLS_CLIENT=(--tls --tls_ca_file="$certs/ca.crt" --tls_server_name=card-server)
  CARD_AS_GATEWAY=("${CARD_TLS_CLIENT[@]}" --tls_cert_file="$certs/api-gateway.crt"
    --tls_key_file="$certs/api-gateway.key")
  CARD_AS_RENDERER=("${CARD_TLS_CLIENT[@]}" --tls_cert_file="$certs/profile-renderer.crt"
    --tls_key_file="$certs/profile-renderer.key")
}

# card_pgbouncer_start PG_URL: Debian's PgBouncer in transaction pooling on 127.0.0.1 in front of the
# throwaway cluster at PG_URL (card_pg_start's), fewer server connections than clients, as deployed to
# save connections. Creates what an operator would: a role `card` owning a database `cards`, with the
# session settings card-server needs set on the role (deploy/README.md, "PgBouncer"). Prints the URL
# card-server connects to; the same database directly is ${PG_URL/\/postgres?//cards?}.
# Stopped by the EXIT trap. PgBouncer refuses to run as root, so as root it runs as postgres.
card_pgbouncer_start() {
  local pg_url=$1 dir=$CARD_WORK/pgbouncer port pg_host pg_port
  pg_host=$(sed -E 's/.*[?&]host=([^&]+).*/\1/' <<<"$pg_url")
  pg_port=$(sed -E 's/.*[?&]port=([^&]+).*/\1/' <<<"$pg_url")
  psql -q -v ON_ERROR_STOP=1 "$pg_url" >/dev/null <<'SQL' || return 1
CREATE ROLE card LOGIN;
CREATE DATABASE cards OWNER card;
ALTER ROLE card SET default_transaction_isolation = 'read committed';
ALTER ROLE card SET statement_timeout = '10s';
ALTER ROLE card SET client_connection_check_interval = '1s';
SQL
  port=$(card_free_port) || return 1
  mkdir -p "$dir"
  [ "$(id -u)" -ne 0 ] || chown postgres: "$dir"
  echo '"card" ""' >"$dir/userlist.txt"
  cat >"$dir/pgbouncer.ini" <<INI
[databases]
cards = host=$pg_host port=$pg_port dbname=cards user=card
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $port
unix_socket_dir =
auth_type = trust
auth_file = $dir/userlist.txt
pool_mode = transaction
default_pool_size = ${PGBOUNCER_POOL_SIZE:-16}
max_client_conn = 1000
logfile = $dir/pgbouncer.log
pidfile = $dir/pgbouncer.pid
INI
  local run=()
  [ "$(id -u)" -ne 0 ] || run=(runuser -u postgres --)
  "${run[@]}" pgbouncer -d "$dir/pgbouncer.ini" || { cat "$dir/pgbouncer.log" >&2; return 1; }
  local _
  for _ in $(seq 50); do
    pg_isready -q -h 127.0.0.1 -p "$port" -d cards && break
    sleep 0.1
  done
  echo "postgresql://card@127.0.0.1:$port/cards"
}

# card_free_port: prints a TCP port free on 127.0.0.1 right now.
card_free_port() {
  /usr/bin/python3 "$CARD_SCRIPTS_DIR/free_port.py"
}

# card_track PID...: kills PID on exit too (for background jobs other than servers).
card_track() {
  CARD_PIDS+=("$@")
}

# card_untrack PID: forgets PID (it has exited and been waited for).
card_untrack() {
  local pid kept=()
  for pid in "${CARD_PIDS[@]}"; do [ "$pid" = "$1" ] || kept+=("$pid"); done
  CARD_PIDS=("${kept[@]}")
}

# card_server_spawn NAME PROGRAM ARGS...: runs PROGRAM --listen=127.0.0.1:<free port> ARGS... in the
# background, output to $CARD_WORK/NAME.log, without waiting; sets CARD_SERVER_PORT and CARD_SERVER_PID.
card_server_spawn() {
  local name=$1 program=$2
  shift 2
  CARD_SERVER_PORT=$(card_free_port) || return 1
  "$program" --listen="127.0.0.1:$CARD_SERVER_PORT" "$@" >"$CARD_WORK/$name.log" 2>&1 &
  CARD_SERVER_PID=$!
  card_track "$CARD_SERVER_PID"
}

# card_server_wait NAME [TENTHS=100]: waits TENTHS x 0.1 s for "listening" in $CARD_WORK/NAME.log; else prints the log, returns 1.
card_server_wait() {
  local log=$CARD_WORK/$1.log tries=${2:-100} _
  for _ in $(seq "$tries"); do
    grep -qs listening "$log" && return 0
    sleep 0.1
  done
  grep -qs listening "$log" && return 0
  cat "$log" >&2
  return 1
}

# card_server_start NAME PROGRAM ARGS...: card_server_spawn, then card_server_wait NAME.
card_server_start() {
  card_server_spawn "$@" || return 1
  card_server_wait "$1"
}

# card_server_kill PID [SIGNAL=TERM]: sends SIGNAL to PID, reaps it, stops tracking it.
card_server_kill() {
  kill -s "${2:-TERM}" "$1" || return 1
  wait "$1" 2>/dev/null || true
  card_untrack "$1"
}
