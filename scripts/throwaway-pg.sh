#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# SPDX-FileCopyrightText: 2026 The CardService Authors
# A throwaway PostgreSQL 15 cluster in a directory of its own, reachable only
# through a Unix socket in that directory (nothing listens on TCP).
#
#   throwaway-pg.sh start DIR [PORT]   initdb (first time) and start; prints the URL
#   throwaway-pg.sh stop DIR           stop and delete DIR
#   throwaway-pg.sh crash DIR          stop abruptly, keep DIR (start brings it back)
#   throwaway-pg.sh freeze|thaw DIR    SIGSTOP / SIGCONT the postmaster and its
#                                      children: a server that stops answering
#
# initdb refuses to run as root, so as root the cluster belongs to `postgres`.
# fsync is off (data survives a killed PostgreSQL, not a killed machine): test
# and benchmark data only. Commits stay synchronous: an acknowledged write is in
# the WAL, so "nothing acknowledged is lost" holds across a PostgreSQL crash.
# PG_DURABLE=1 turns fsync and full_page_writes on, as in production: every
# commit then waits for the disk (stress/compare --durable).
set -euo pipefail

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
cmd=${1:?usage: throwaway-pg.sh start|stop|crash|freeze|thaw DIR [PORT]}
dir=${2:?usage: throwaway-pg.sh start|stop|crash DIR [PORT]}
port=${3:-5432}

as_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "$cmd" in
  start)
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    [ "$(id -u)" -eq 0 ] && chown postgres: "$dir"
    durable=$([ "${PG_DURABLE:-0}" = 1 ] && echo on || echo off)
    if [ ! -f "$dir/data/PG_VERSION" ]; then
      as_owner "$PG_BIN/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 \
        --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
    fi
    as_owner "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 60 start -o \
      "-k $dir -p $port -c listen_addresses='' -c max_connections=${PG_MAX_CONNECTIONS:-400} \
       -c fsync=$durable -c full_page_writes=$durable -c synchronous_commit=on \
       -c shared_buffers=256MB" >/dev/null || { tail -20 "$dir/postgres.log" >&2; exit 1; }
    echo "postgresql:///postgres?host=$dir&port=$port&user=postgres"
    ;;
  stop)
    if [ -f "$dir/data/postmaster.pid" ]; then
      as_owner "$PG_BIN/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$dir"
    ;;
  crash)
    as_owner "$PG_BIN/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null
    ;;
  freeze | thaw)
    signal=$([ "$cmd" = freeze ] && echo STOP || echo CONT)
    postmaster=$(head -1 "$dir/data/postmaster.pid")
    # The postmaster first: once it is stopped it forks no backend that the
    # list of children below would miss.
    kill -"$signal" "$postmaster"
    children=$(pgrep -P "$postmaster" || true)
    [ -z "$children" ] || kill -"$signal" $children
    ;;
  *)
    echo "usage: throwaway-pg.sh start|stop|crash|freeze|thaw DIR [PORT]" >&2
    exit 2
    ;;
esac
