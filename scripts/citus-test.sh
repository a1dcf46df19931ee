#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# SPDX-FileCopyrightText: 2026 The CardService Authors
# card-server on a Citus cluster (docs/scale.md): a coordinator and two workers
# on loopback (scripts/citus-cluster.sh; Citus built once from
# ../shared/citus/ by scripts/citus-build.sh). The checks:
#   migrate      --migrate_only twice: the first distributes the tables and the
#                user functions, the second finds them so and changes nothing
#   refuse       a user function left undistributed: card-server refuses to
#                serve, naming it; --migrate distributes it again
#   stress       card-stress first-card, hot-user, spread and mixed through
#                card-server, verified through the API and by SQL: all PASS
#   delegated    the mutation functions ran on the workers, never on the
#                coordinator (pg_stat_user_functions on each node)
#   routing      a user's reads and a slug lookup each touch one shard (EXPLAIN)
#   shard-move   a shard group moved to the other worker during a mixed run,
#                which verifies
#   any-node     a second replica pointed at a worker ("query from any node"):
#                a hot user served through both replicas keeps the promise
#   worker-kill  a worker killed during a mixed run and restarted: a user on
#                the live worker is served meanwhile, a user on the dead one
#                gets UNAVAILABLE (never INTERNAL), and afterwards every check
#                passes with nothing acknowledged lost
#   lock-split   negative control: SetDefault raced for hot users, some calls
#                delegated and some run on the coordinator, must break the
#                promise (unique violations on the one-default index); the same
#                race with every call delegated must not
# Ends with "citus-test: N passed, N failed".
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build}
reports=${CITUS_REPORTS:-$build/reports/citus}
mkdir -p "$reports"

bash scripts/citus-build.sh

# shellcheck source=scripts/lib/throwaway-server.sh
source scripts/lib/throwaway-server.sh
card_env_init citus
cluster=$CARD_WORK/citus
stop_cluster() { bash scripts/citus-cluster.sh stop "$cluster" >/dev/null 2>&1 || true; }
trap 'stop_cluster; card_cleanup' EXIT
base_port=${CITUS_BASE_PORT:-9700}
url=$(bash scripts/citus-cluster.sh start "$cluster" --base-port="$base_port")
worker1_port=$((base_port + 1))
worker2_port=$((base_port + 2))
node_url() { bash scripts/citus-cluster.sh url "$cluster" "$1"; }
sql() { psql -X -q -A -t -v ON_ERROR_STOP=1 "$@"; }
for node in coordinator worker1 worker2; do
  sql "$(node_url $node)" -c "ALTER SYSTEM SET track_functions = 'pl'" \
    -c "SELECT pg_reload_conf()" >/dev/null
done

passed=0 failed=0
check() {  # check NAME CONDITION-STATUS MESSAGE
  if [ "$2" -eq 0 ]; then
    echo "citus-test: ok $1: $3"
    passed=$((passed + 1))
  else
    echo "citus-test: FAILED $1: $3" >&2
    failed=$((failed + 1))
  fi
}
server_flags=(--database_url="$url" --db_pool_size=16)

# migrate
"$build/server/card-server" "${server_flags[@]}" --migrate_only >"$CARD_WORK/migrate1.log" 2>&1
"$build/server/card-server" "${server_flags[@]}" --migrate_only >"$CARD_WORK/migrate2.log" 2>&1
first=$(grep -c "Citus: distributed" "$CARD_WORK/migrate1.log" || true)
second=$(grep -c "Citus: " "$CARD_WORK/migrate2.log" || true)
tables=$(sql "$url" -c "SELECT count(*) FROM pg_dist_partition")
functions=$(sql "$url" -c "SELECT count(*) FROM pg_catalog.pg_dist_object
  WHERE classid = 'pg_proc'::regclass AND distribution_argument_index = 0")
if [ "$first" -ge 12 ] && [ "$second" -eq 0 ] && [ "$tables" -eq 5 ] && [ "$functions" -eq 7 ]
then status=0; else status=1; fi
check migrate "$status" "first start: $first distribution steps; second: $second; $tables tables and \
$functions functions distributed by user"

# refuse
sql "$url" -c "DELETE FROM pg_catalog.pg_dist_object
  WHERE classid = 'pg_proc'::regclass
    AND objid = 'card_delete(text,uuid,bigint,integer)'::regprocedure" >/dev/null
set +e
timeout 30 "$build/server/card-server" "${server_flags[@]}" --migrate=false \
  --listen=127.0.0.1:0 >"$CARD_WORK/refused.log" 2>&1
refused=$?
set -e
"$build/server/card-server" "${server_flags[@]}" --migrate_only >"$CARD_WORK/migrate3.log" 2>&1
if [ "$refused" -ne 0 ] && grep -q "card_delete(text,uuid,bigint,integer) is not distributed" \
  "$CARD_WORK/refused.log" && grep -q "distributed function card_delete" "$CARD_WORK/migrate3.log"
then status=0; else status=1; fi
check refuse "$status" "undistributed card_delete: exit $refused, $(grep -o 'Citus: function [^ ]*' \
  "$CARD_WORK/refused.log" | head -1); --migrate put it back"

card_server_start server "$build/server/card-server" "${server_flags[@]}"
port=$CARD_SERVER_PORT
stress() {
  local name=$1; shift
  "$build/stress/card-stress" --target=127.0.0.1:$port --database_url="$url" --progress=false \
    --user_prefix="citus-$name-" --format=text --output="$reports/$name.txt" \
    --json_output="$reports/$name.json" "$@"
}

# stress
for run in "first-card --scenario=first-card --users=200 --burst=10 --concurrency=2000" \
  "hot-user --scenario=hot-user --requests=3000 --concurrency=200" \
  "spread --scenario=spread --users=500 --requests=5000 --concurrency=64" \
  "mixed --scenario=mixed --users=20 --requests=5000 --concurrency=200"; do
  read -r -a args <<<"$run"
  set +e
  stress "${args[@]}"
  status=$?
  set -e
  check "stress-${args[0]}" $status "card-stress ${args[*]:1}: $(grep -m1 'Verdict' \
    "$reports/${args[0]}.txt" || echo "exit $status")"
done

# delegated
mutations="'card_create','card_create_batch','card_update','card_delete','card_set_default',\
'card_create_link','card_delete_link'"
calls() {
  sql "$(node_url "$1")" -c "SELECT coalesce(sum(calls), 0) FROM pg_stat_user_functions
    WHERE funcname IN ($mutations)"
}
sleep 1  # function statistics reach the views at the end of each transaction, give or take
coordinator_calls=$(calls coordinator)
worker_calls=$(( $(calls worker1) + $(calls worker2) ))
if [ "$coordinator_calls" -eq 0 ] && [ "$worker_calls" -gt 0 ]
then status=0; else status=1; fi
check delegated "$status" "mutation function calls: coordinator $coordinator_calls, workers $worker_calls"

# routing
explain() { sql "$url" -c "EXPLAIN $1" | grep -m1 -o 'Task Count: [0-9]*'; }
card_read=$(explain "SELECT * FROM card_rows WHERE user_id = 'u' AND id = gen_random_uuid()")
list_read=$(explain "SELECT * FROM card_rows WHERE user_id = 'u' AND id IN
  (SELECT id FROM cards WHERE user_id = 'u' ORDER BY create_time, id LIMIT 50)")
slug_read=$(explain "SELECT user_id, card_id FROM card_slugs WHERE slug = 's'")
all_cards=$(explain "SELECT count(*) FROM cards")
if [ "$card_read" = "Task Count: 1" ] && [ "$list_read" = "Task Count: 1" ] &&
  [ "$slug_read" = "Task Count: 1" ] && [ "$all_cards" != "Task Count: 1" ]
then status=0; else status=1; fi
check routing "$status" "GetCard $card_read, ListCards $list_read, slug lookup $slug_read \
(a scan of all cards: $all_cards)"

# shard-move: the first of worker1's shards (with its co-located shards) moves
# to worker2 online while a mixed run goes on; the run verifies.
shard=$(sql "$url" -c "SELECT shardid FROM citus_shards WHERE table_name = 'cards'::regclass
  AND nodeport = $worker1_port ORDER BY shardid LIMIT 1")
set +e
stress shard-move --scenario=mixed --users=200 --duration=12s --concurrency=64 &
stress_pid=$!
sleep 3
move_started=$(date +%s%N)
sql "$url" -c "SELECT citus_move_shard_placement($shard, '127.0.0.1', $worker1_port,
  '127.0.0.1', $worker2_port)" >"$CARD_WORK/move.log" 2>&1
moved=$?
move_ms=$(( ($(date +%s%N) - move_started) / 1000000 ))
wait "$stress_pid"
move_run=$?
set -e
now_on=$(sql "$url" -c "SELECT nodeport FROM citus_shards WHERE shardid = $shard")
if [ "$moved" -eq 0 ] && [ "$move_run" -eq 0 ] && [ "$now_on" = "$worker2_port" ]
then status=0; else status=1; fi
check shard-move "$status" "shard $shard (cards and its co-located shards) moved to worker2 in \
${move_ms} ms under a mixed run: move exit $moved, now on port $now_on; the run: \
$(grep -m1 'Verdict' "$reports/shard-move.txt" || echo "exit $move_run")"

# any-node: a second replica on worker1 (Citus's "query from any node"), both
# replicas serving one hot user: the calls that land on worker1 are delegated
# from there, so the user's lock is still taken on one node.
card_server_start on-worker "$build/server/card-server" --migrate=false --db_pool_size=8 \
  --database_url="$(node_url worker1)"
on_worker_port=$CARD_SERVER_PORT
set +e
"$build/stress/card-stress" --target=127.0.0.1:$port,127.0.0.1:$on_worker_port \
  --database_url="$url" --progress=false --user_prefix=citus-any-node- --format=text \
  --output="$reports/any-node.txt" --scenario=hot-user --requests=3000 --concurrency=200
any_node=$?
set -e
check any-node $any_node "hot user through a replica on the coordinator and one on worker1: \
$(grep -m1 'Verdict' "$reports/any-node.txt" || echo "exit $any_node")"

# worker-kill: a user on each worker, found by where Citus places them.
user_on() {
  local port=$1 i
  for i in $(seq 1 200); do
    if [ "$(sql "$url" -c "SELECT nodeport FROM citus_shards
        WHERE shardid = get_shard_id_for_distribution_column('cards', 'kill-probe-$i')")" = "$port" ]
    then echo "kill-probe-$i"; return; fi
  done
  return 1
}
live_user=$(user_on "$worker1_port")
dead_user=$(user_on "$worker2_port")
cardctl() { "$build/client/cardctl" --target=127.0.0.1:$port --timeout=5s "$@"; }
set +e
stress worker-kill --scenario=mixed --users=40 --duration=14s --concurrency=64 \
  --max_error_rate=1 --max_retries=30 &
stress_pid=$!
sleep 4
bash scripts/citus-cluster.sh crash "$cluster" worker2
sleep 1
cardctl create --user_id="$live_user" --title=during-outage >/dev/null 2>"$CARD_WORK/live.err"
live=$?
cardctl create --user_id="$dead_user" --title=during-outage >/dev/null 2>"$CARD_WORK/dead.err"
dead=$?
sleep 3
bash scripts/citus-cluster.sh restart "$cluster" worker2
wait "$stress_pid"
kill_status=$?
set -e
internal=$(grep -o '"INTERNAL[^,}]*' "$reports/worker-kill.json" | head -3 | tr '\n' ' ' || true)
# The server said so in its log (the health probe asks every second), and
# said so again once the worker was back.
down_line=$(grep -m1 -o "Citus: 1 of 2 worker(s) answer; not answering: [^ ]*" \
  "$CARD_WORK/server.log" || true)
up_again=$(grep -c "Citus: all 2 worker(s) answer" "$CARD_WORK/server.log" || true)
if [ "$live" -eq 0 ] && [ "$dead" -eq 7 ] && [ "$kill_status" -eq 0 ] && [ -z "$internal" ] &&
  [ -n "$down_line" ] && [ "$up_again" -ge 2 ]
then status=0; else status=1; fi
check worker-kill "$status" "during the outage a user on the live worker: exit $live (want 0), on the \
dead one: exit $dead, $(head -1 "$CARD_WORK/dead.err") (want 7: UNAVAILABLE or \
DEADLINE_EXCEEDED, retry with the same request_id); mixed run \
across it: exit $kill_status, $(grep -m1 'Verdict' "$reports/worker-kill.txt" || true) \
${internal:+INTERNAL answers: $internal}; server log: \"${down_line:-no such line}\", \
then all answering again ($up_again lines in all)"
set +e
stress after-kill --scenario=first-card --users=100 --burst=10 --concurrency=1000
after=$?
set -e
not_one=$(sql "$url" -c "SELECT count(*) FROM (SELECT user_id FROM cards GROUP BY user_id
  HAVING count(*) FILTER (WHERE is_default) <> 1) AS t")
if [ "$after" -eq 0 ] && [ "$not_one" -eq 0 ]
then status=0; else status=1; fi
check after-kill "$status" "first-card after the restart: exit $after; users with other than one \
default, by SQL over every card: $not_one"

# lock-split: pgbench races SetDefault between two cards of each of 3 hot users,
# 12 clients.
for i in 1 2 3; do
  cardctl create --user_id="split-$i" --title=a >/dev/null
  cardctl create --user_id="split-$i" --title=b >/dev/null
done
race() {  # race NAME SCRIPT...: pgbench for 6 s; prints the unique violations it met
  local name=$1; shift
  local files=() n=0 body
  for body in "$@"; do
    n=$((n + 1))
    printf '%s\n' "\\set u random(1, 3)" \
      "SELECT id AS card FROM cards WHERE user_id = 'split-' || :u ORDER BY random() LIMIT 1 \\gset" \
      "$body" >"$CARD_WORK/$name-$n.sql"
    files+=(-f "$CARD_WORK/$name-$n.sql")
  done
  pgbench -n -c 12 -j 2 -T 6 "${files[@]}" "$url" >"$CARD_WORK/$name.log" 2>&1 || true
  grep -c "duplicate key value violates unique constraint" "$CARD_WORK/$name.log" || true
}
delegated="SELECT *, current_setting('card.lock_wait_us', true) FROM card_set_default(\
'split-' || :u, ':card', 5000);"
coordinator="SELECT current_setting('card.lock_wait_us', true) FROM card_set_default(\
'split-' || :u, ':card', 5000);"
all_delegated=$(race all-delegated "$delegated")
# pgbench drops a client at its first error, so a round ends with at most 12
# violations; up to five rounds, until one shows the split.
mixed_calls=0
for round in 1 2 3 4 5; do
  mixed_calls=$(race "mixed-calls-$round" "$delegated" "$coordinator")
  [ "$mixed_calls" -eq 0 ] || break
done
if [ "$all_delegated" -eq 0 ] && [ "$mixed_calls" -gt 0 ]
then status=0; else status=1; fi
check lock-split "$status" "every call delegated: $all_delegated unique violations (want 0); some on \
the coordinator: $mixed_calls in round $round (want > 0: the locks split, the negative control \
fails as it must)"

echo "citus-test: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
