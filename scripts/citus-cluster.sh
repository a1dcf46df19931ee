#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# SPDX-FileCopyrightText: 2026 The CardService Authors
# A throwaway Citus cluster on loopback, in a directory of its own: a coordinator
# and N workers, each a PostgreSQL 15 with citus preloaded, database `cards` with
# the extension on every node and the workers registered with the coordinator.
# For the Citus tests (scripts/cardlib/citus.py) and for trying things by hand.
#
#   citus-cluster.sh start DIR [--base-port=N] [--workers=N]
#                                    initdb (first time) and start every node that
#                                    is not running; prints the coordinator's URL,
#                                    the only line on stdout. Defaults: coordinator
#                                    on 9700, 2 workers on 9701 and 9702.
#   citus-cluster.sh stop DIR        stop every node and delete DIR
#   citus-cluster.sh status DIR      each node up/down, and pg_dist_node as the
#                                    coordinator sees it (exit 3 if a node is down)
#   citus-cluster.sh crash DIR NODE  stop NODE abruptly (pg_ctl -m immediate), keep
#                                    its data; NODE is coordinator, worker1, ...
#   citus-cluster.sh restart DIR NODE  start NODE again (crash recovery)
#   citus-cluster.sh url DIR [NODE]  the URL of NODE (default: the coordinator)
#
# Node NODE lives in DIR/NODE: data/, postgres.log, and its Unix socket. Each
# listens on 127.0.0.1 only and trusts local and 127.0.0.1 connections only.
# The ports and worker count are kept in DIR/cluster.conf, so later commands
# need only DIR. initdb refuses to run as root, so as root the nodes belong to
# `postgres`. fsync and full_page_writes are off (test data only: it survives a
# killed PostgreSQL, not a killed machine); commits stay synchronous.
# PG_DURABLE=1 (read at each start) turns both on, as throwaway-pg.sh does.
#
# Citus settings, besides shared_preload_libraries: max_prepared_transactions
# for its two-phase commit across nodes, and at most 4 cached connections and 4
# executor connections per worker and session (they cut worker session churn in
# a 4,000-create run from ~2,600 sessions to 84); wal_level logical, so that
# shards move online (citus_move_shard_placement, citus_rebalance_start).
# citus.so comes from scripts/citus-build.sh.
set -euo pipefail

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
USAGE="usage: citus-cluster.sh start DIR [--base-port=N] [--workers=N] | stop DIR | status DIR
       | crash DIR NODE | restart DIR NODE | url DIR [NODE]"
DATABASE=cards

log() { echo "citus-cluster: $*" >&2; }
die() { log "$*"; exit 1; }
usage() { echo "$USAGE" >&2; exit 2; }

as_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

cmd=${1:-}
dir=${2:-}
if [ -z "$cmd" ] || [ -z "$dir" ]; then usage; fi
shift 2
# Absolute: the nodes' socket directories are written into their settings.
[ ! -d "$dir" ] || dir=$(cd "$dir" && pwd)

# --- the cluster's shape, kept in DIR/cluster.conf ---------------------------

base_port=9700
workers=2
rewrite_settings=0

read_conf() {
  [ -f "$dir/cluster.conf" ] || die "$dir is not a citus-cluster.sh cluster (no cluster.conf)"
  local key value
  while IFS='=' read -r key value; do
    case "$key" in
      base_port) base_port=$value ;;
      workers) workers=$value ;;
    esac
  done <"$dir/cluster.conf"
}

nodes() {
  echo coordinator
  local i
  for ((i = 1; i <= workers; i++)); do echo "worker$i"; done
}

port_of() {
  case "$1" in
    coordinator) echo "$base_port" ;;
    worker*) echo $((base_port + ${1#worker})) ;;
  esac
}

check_node() {
  nodes | grep -qx -- "$1" || die "no node '$1' (nodes: $(nodes | paste -sd ' '))"
}

url_of() {
  echo "postgresql://postgres@127.0.0.1:$(port_of "$1")/$DATABASE"
}

# --- one node ------------------------------------------------------------------

running() {
  [ -f "$dir/$1/data/PG_VERSION" ] &&
    as_owner "$PG_BIN/pg_ctl" -D "$dir/$1/data" status >/dev/null 2>&1
}

port_in_use() {
  (: <>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

psql_on() {
  local node=$1
  shift
  "$PG_BIN/psql" -X -q -At -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$(port_of "$node")" \
    -U postgres "$@"
}

# The settings, included from postgresql.conf: written by `start` (so its
# PG_DURABLE applies), kept by `restart`.
write_settings() {
  local node=$1 durable
  durable=$([ "${PG_DURABLE:-0}" = 1 ] && echo on || echo off)
  as_owner tee "$dir/$node/data/citus-cluster.conf" >/dev/null <<EOF
# Written by scripts/citus-cluster.sh at each start: edits are lost.
port = $(port_of "$node")
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir/$node'
shared_preload_libraries = 'citus'
max_connections = 400
shared_buffers = 128MB
fsync = $durable
full_page_writes = $durable
synchronous_commit = on
max_prepared_transactions = 200
wal_level = logical
citus.max_cached_conns_per_worker = 4
citus.max_adaptive_executor_pool_size = 4
EOF
}

init_node() {
  local node=$1 data=$dir/$1/data
  as_owner mkdir -p "$dir/$node"
  as_owner "$PG_BIN/initdb" -D "$data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 \
    >"$dir/$node/initdb.log" 2>&1 || { cat "$dir/$node/initdb.log" >&2; return 1; }
  as_owner tee "$data/pg_hba.conf" >/dev/null <<EOF
# Written by scripts/citus-cluster.sh: this node's own socket and loopback only.
local all         all                trust
host  all         all  127.0.0.1/32  trust
local replication all                trust
host  replication all  127.0.0.1/32  trust
EOF
  echo "include 'citus-cluster.conf'" | as_owner tee -a "$data/postgresql.conf" >/dev/null
}

start_node() {
  local node=$1
  if [ ! -f "$dir/$node/data/PG_VERSION" ]; then
    init_node "$node" || { log "$node: initdb failed"; return 1; }
  fi
  if [ "$rewrite_settings" = 1 ] || [ ! -f "$dir/$node/data/citus-cluster.conf" ]; then
    write_settings "$node"
  fi
  as_owner "$PG_BIN/pg_ctl" -D "$dir/$node/data" -l "$dir/$node/postgres.log" -w -t 60 \
    start >/dev/null 2>&1 || {
    tail -20 "$dir/$node/postgres.log" >&2
    log "$node did not start (log: $dir/$node/postgres.log)"
    return 1
  }
  log "$node up on 127.0.0.1:$(port_of "$node")"
}

check_ports() {
  local node port
  for node in "$@"; do
    port=$(port_of "$node")
    if port_in_use "$port"; then
      die "port $port ($node) on 127.0.0.1 is in use by another process: stop it, or pick another --base-port for a new DIR"
    fi
  done
}

# Starts the given nodes (those not running) in parallel, after checking that
# their ports are free.
start_nodes() {
  local node to_start=()
  for node in "$@"; do
    running "$node" || to_start+=("$node")
  done
  check_ports "${to_start[@]}"
  in_parallel start_node "${to_start[@]}" || die "a node did not start"
}

# in_parallel FUNCTION NODE...: FUNCTION NODE for every NODE at once; fails if
# any of them failed.
in_parallel() {
  local function=$1 node pid pids=() failed=0
  shift
  for node in "$@"; do
    "$function" "$node" &
    pids+=($!)
  done
  for pid in "${pids[@]}"; do
    wait "$pid" || failed=1
  done
  return "$failed"
}

# The database, the extension on every node, and the workers registered with
# the coordinator. Every step checks first, so a start that died half-way is
# finished by the next.
create_database() {
  local node=$1
  [ "$(psql_on "$node" -d postgres -c \
    "SELECT count(*) FROM pg_database WHERE datname = '$DATABASE'")" = 1 ] ||
    psql_on "$node" -d postgres -c "CREATE DATABASE $DATABASE" >/dev/null
  psql_on "$node" -d "$DATABASE" -c "CREATE EXTENSION IF NOT EXISTS citus" >/dev/null
}

set_up_citus() {
  local node port
  # shellcheck disable=SC2046  # one word per node name
  in_parallel create_database $(nodes) ||
    die "creating database $DATABASE with the citus extension failed"
  port=$(port_of coordinator)
  psql_on coordinator -d "$DATABASE" \
    -c "SELECT citus_set_coordinator_host('127.0.0.1', $port)" >/dev/null
  for node in $(nodes); do
    [ "$node" = coordinator ] && continue
    port=$(port_of "$node")
    psql_on coordinator -d "$DATABASE" -c "SELECT citus_add_node('127.0.0.1', $port)
      WHERE NOT EXISTS (SELECT FROM pg_dist_node
                        WHERE nodename = '127.0.0.1' AND nodeport = $port)" >/dev/null
  done
  touch "$dir/citus-ready"
}

require_citus() {
  local pkglibdir
  pkglibdir=$("$PG_BIN/pg_config" --pkglibdir)
  [ -f "$pkglibdir/citus.so" ] || die "citus.so is not in $pkglibdir: run scripts/citus-build.sh"
}

# --- commands ------------------------------------------------------------------

case "$cmd" in
  start)
    new_base_port=''
    new_workers=''
    for arg in "$@"; do
      case "$arg" in
        --base-port=*) new_base_port=${arg#*=} ;;
        --workers=*) new_workers=${arg#*=} ;;
        *) usage ;;
      esac
    done
    [[ -z "$new_base_port" || "$new_base_port" =~ ^[0-9]+$ ]] || die "--base-port: not a number"
    [[ -z "$new_workers" || "$new_workers" =~ ^[1-9][0-9]*$ ]] || die "--workers: at least 1"
    require_citus
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    # Unix socket paths are at most 107 bytes: DIR/workerNN/.s.PGSQL.NNNNN
    [ "${#dir}" -le 80 ] || die "$dir is too long for the nodes' Unix sockets: use a shorter DIR"
    if [ -f "$dir/cluster.conf" ]; then
      read_conf
      [ -z "$new_base_port" ] || [ "$new_base_port" = "$base_port" ] ||
        die "$dir was created with --base-port=$base_port"
      [ -z "$new_workers" ] || [ "$new_workers" = "$workers" ] ||
        die "$dir was created with --workers=$workers"
    else
      [ -z "$(ls -A "$dir")" ] || die "$dir is neither empty nor a citus-cluster.sh cluster"
      base_port=$((10#${new_base_port:-$base_port}))
      workers=$((10#${new_workers:-$workers}))
      if [ "$base_port" -lt 1024 ] || [ $((base_port + workers)) -gt 65535 ]; then
        die "ports $base_port..$((base_port + workers)) are out of range"
      fi
      # shellcheck disable=SC2046
      check_ports $(nodes)
      printf 'base_port=%s\nworkers=%s\n' "$base_port" "$workers" >"$dir/cluster.conf"
    fi
    if [ "$(id -u)" -eq 0 ]; then
      chown postgres: "$dir"
      runuser -u postgres -- test -x "$dir" ||
        die "the postgres user cannot reach $dir: use a directory under /tmp"
    fi
    rewrite_settings=1
    # shellcheck disable=SC2046
    start_nodes $(nodes)
    [ -f "$dir/citus-ready" ] || set_up_citus
    url_of coordinator
    ;;
  stop)
    [ -d "$dir" ] || exit 0
    read_conf
    pids=()
    for node in $(nodes); do
      if running "$node"; then
        as_owner "$PG_BIN/pg_ctl" -D "$dir/$node/data" -m fast -w stop >/dev/null 2>&1 &
        pids+=($!)
      fi
    done
    for pid in "${pids[@]}"; do wait "$pid" || true; done
    rm -rf "$dir"
    ;;
  status)
    read_conf
    down=0
    for node in $(nodes); do
      if running "$node"; then state=up; else state=down down=1; fi
      printf '%-12s 127.0.0.1:%-6s %s\n' "$node" "$(port_of "$node")" "$state"
    done
    if running coordinator; then
      echo "pg_dist_node (nodename|nodeport|isactive), from the coordinator:"
      psql_on coordinator -d "$DATABASE" \
        -c "SELECT nodename, nodeport, isactive FROM pg_dist_node ORDER BY nodeport" |
        sed 's/^/  /'
    fi
    [ "$down" -eq 0 ] || exit 3
    ;;
  crash)
    node=${1:-}
    [ -n "$node" ] || usage
    read_conf
    check_node "$node"
    running "$node" || die "$node is not running"
    as_owner "$PG_BIN/pg_ctl" -D "$dir/$node/data" -m immediate -w stop >/dev/null
    log "$node crashed (pg_ctl stop -m immediate)"
    ;;
  restart)
    node=${1:-}
    [ -n "$node" ] || usage
    read_conf
    check_node "$node"
    if running "$node"; then
      log "$node is already running"
    else
      start_nodes "$node"
    fi
    ;;
  url)
    node=${1:-coordinator}
    read_conf
    check_node "$node"
    url_of "$node"
    ;;
  *)
    usage
    ;;
esac
