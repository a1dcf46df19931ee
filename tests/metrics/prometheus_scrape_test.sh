#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# SPDX-FileCopyrightText: 2026 The CardService Authors
# The metrics as an operator sees them: a real Prometheus (Debian's, local
# config, storage in a temporary directory, loopback only, 1 s scrapes) scrapes
# a real card-server, served as deployed (mutual TLS, the shipped policy,
# --log_format=json, --access_log), during a hot-user card-stress run.
#
#   prometheus_scrape_test.sh BUILD_DIR [REPORT_DIR]
#
# Checked:
#  1. before any call, every method's series exist at 0 (17 codes each for
#     CreateCard) and `promtool check metrics` passes;
#  2. a create the policy denies is counted (PermissionDenied) and access-logged
#     with the caller's identity, though it never reaches a handler;
#  3. a scrape taken during the hot-user run passes `promtool check metrics`
#     (kept as REPORT_DIR/scrape-during-hot-user.txt);
#  4. after card-stress ends and Prometheus has scraped once more, its
#     grpc_server_handled_total{grpc_method="CreateCard",grpc_code="OK"} equals
#     the creates card-stress saw acknowledged (its JSON report), with no retry
#     that could blur the count; the hot user's queue shows in
#     card_server_user_queue_depth;
#  5. every line the server logged is one JSON object;
#  6. the messages CreateCard sent equal its OK answers, and every query of
#     the Grafana dashboard (deploy/grafana/card-server.json) is one this
#     Prometheus takes and answers with series.
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:?usage: prometheus_scrape_test.sh BUILD_DIR [REPORT_DIR]}
reports=${2:-$build/metrics-reports}
mkdir -p "$reports"
for tool in prometheus promtool curl; do
  command -v "$tool" >/dev/null || { echo "missing $tool (scripts/install-deps.sh)" >&2; exit 1; }
done

# shellcheck source=scripts/lib/throwaway-server.sh
source scripts/lib/throwaway-server.sh
card_env_init metrics
work=$CARD_WORK
url=$(card_pg_start 5497)
card_dev_mtls >/dev/null
metrics_port=$(card_free_port)
card_server_start server "$build/server/card-server" --database_url="$url" --db_pool_size=8 \
  --metrics_listen="127.0.0.1:$metrics_port" --log_format=json --access_log \
  --access_log_ok_sample_rate=0.01 "${CARD_MTLS_SERVER[@]}"
port=$CARD_SERVER_PORT

failures=0
check() {  # check DESCRIPTION COMMAND...: runs COMMAND, reports pass/FAIL
  local what=$1; shift
  if "$@"; then echo "pass: $what"; else echo "FAIL: $what" >&2; failures=$((failures + 1)); fi
}
scrape() { curl -sf "http://127.0.0.1:$metrics_port/metrics"; }
# The JSON reading (Prometheus's API, card-stress's report, the server log).
checks() { /usr/bin/python3 tests/metrics/prometheus_checks.py "$@"; }

# Prometheus, on loopback, scraping the metrics port every second.
prom_port=$(card_free_port)
cat >"$work/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: card-server
    static_configs:
      - targets: ["127.0.0.1:$metrics_port"]
EOF
prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/prometheus" \
  --web.listen-address="127.0.0.1:$prom_port" >"$work/prometheus.log" 2>&1 &
card_track $!
api="http://127.0.0.1:$prom_port/api/v1"
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$prom_port/-/ready" >/dev/null && break; sleep 0.2; done
curl -sf "http://127.0.0.1:$prom_port/-/ready" >/dev/null || { cat "$work/prometheus.log" >&2; exit 1; }

# The value of an instant query with one result ("" if none).
query() {
  curl -sf --get "$api/query" --data-urlencode "query=$1" | checks query-value
}
# Waits until Prometheus has finished a scrape of card-server that started after now.
wait_for_scrape_after_now() {
  local since
  since=$(date +%s.%N)
  for _ in $(seq 100); do
    if curl -sf "$api/targets" | checks scraped-after "$since"; then return 0; fi
    sleep 0.2
  done
  return 1
}

# 1. Pre-initialised series, valid exposition.
scrape >"$work/idle.txt"
check "promtool check metrics on an idle server" promtool check metrics <"$work/idle.txt"
zero_series=$(grep -c '^grpc_server_handled_total{grpc_code="[A-Za-z]*",grpc_method="CreateCard",.*} 0$' \
  "$work/idle.txt" || true)
check "CreateCard has 17 handled series at 0 before any call (got $zero_series)" [ "$zero_series" -eq 17 ]
check "health Check is pre-initialised" grep -q \
  '^grpc_server_started_total{grpc_method="Check",grpc_service="grpc.health.v1.Health",grpc_type="unary"} 0$' \
  "$work/idle.txt"

# 2. A call the policy denies (cardctl exit 6: PERMISSION_DENIED).
set +e
"$build/client/cardctl" --target="127.0.0.1:$port" --timeout=5s "${CARD_AS_RENDERER[@]}" \
  create --user_id=metrics-denied --title=x >/dev/null 2>&1
denied_exit=$?
set -e
check "the renderer's create is denied (cardctl exit $denied_exit)" [ "$denied_exit" -eq 6 ]

# 3./4. Hot user: every create for one user, 200 in flight. A long per-attempt
# deadline so that no create is retried (a retry's first attempt may have
# succeeded on the server while the client gave up on it).
(
  set +e
  "$build/stress/card-stress" --target="127.0.0.1:$port" --database_url="$url" \
    "${CARD_AS_GATEWAY[@]}" --scenario=hot-user --requests=3000 --concurrency=200 --timeout=60s \
    --format=json --output="$work/report.json"
  echo $? >"$work/stress.exit"
) &
stress_pid=$!
card_track "$stress_pid"
# Keeps the last scrape taken while creates were done and others still queued
# behind the hot user's lock: late in the load, before verification starts.
# Every 50 ms: with group commit the 3,000 creates can be done in under half a
# second, and a slower poll may never see them queued.
during=""
for _ in $(seq 12000); do  # 10 minutes at most
  [ ! -e "$work/stress.exit" ] || break
  sleep 0.05
  scrape >"$work/latest.txt" || continue
  if grep -q '^card_server_queued_requests [1-9]' "$work/latest.txt" &&
    grep -q '^grpc_server_handled_total{grpc_code="OK",grpc_method="CreateCard",.*} [1-9]' \
      "$work/latest.txt"; then
    cp "$work/latest.txt" "$work/during.txt"
    during=yes
  fi
done
wait "$stress_pid" || true
card_untrack "$stress_pid"
stress_exit=$(cat "$work/stress.exit" 2>/dev/null || echo "none: still running after 10 minutes")
check "card-stress hot-user passes (exit $stress_exit)" [ "$stress_exit" = 0 ]
check "a scrape was taken while requests were queued" [ -n "$during" ]
[ -z "$during" ] || cp "$work/during.txt" "$reports/scrape-during-hot-user.txt"
check "promtool check metrics on the scrape during the hot-user run" \
  promtool check metrics <"$reports/scrape-during-hot-user.txt"

check "Prometheus scraped card-server after card-stress ended" wait_for_scrape_after_now
read -r acknowledged retries < <(checks creates "$work/report.json")
handled=$(query 'grpc_server_handled_total{grpc_method="CreateCard",grpc_code="OK"}')
echo "card-stress acknowledged $acknowledged creates ($retries retries);" \
  "Prometheus: grpc_server_handled_total{CreateCard,OK} = $handled"
check "no create was retried" [ "$retries" -eq 0 ]
check "Prometheus counts exactly the acknowledged creates" [ "$handled" = "$acknowledged" ]
denied=$(query 'grpc_server_handled_total{grpc_method="CreateCard",grpc_code="PermissionDenied"}')
check "Prometheus counts the denied create (got '$denied')" [ "$denied" = "1" ]
deep=$(query 'sum(card_server_user_queue_depth_count) - sum(card_server_user_queue_depth_bucket{le="1"})')
check "the hot user's queue was deeper than 1 (for $deep creates)" \
  checks positive "${deep:-0}"
up=$(query 'up{job="card-server"}')
check "target up" [ "$up" = "1" ]

# 5. Logs: one JSON object per line; the denial is there with its caller.
check "every server log line is a JSON object" checks json-lines "$work/server.log"
check "the denied create is access-logged with the caller's identity" grep -q \
  '"code":"PERMISSION_DENIED".*"caller":"spiffe://cards.example/ns/profiles/sa/profile-renderer"' \
  "$work/server.log"

# 6. Messages out, and the dashboard's queries on what Prometheus scraped.
sent=$(query 'grpc_server_msg_sent_total{grpc_method="CreateCard"}')
check "CreateCard sent a message per OK answer ($sent for $handled)" [ "$sent" = "$handled" ]
# The load may have come and gone between two scrapes (3,000 group-committed
# creates can take under a second): a few calls between two later scrapes
# give the dashboard's rates something to show.
wait_for_scrape_after_now || true
for i in 1 2 3; do
  "$build/client/cardctl" --target="127.0.0.1:$port" --timeout=5s "${CARD_AS_GATEWAY[@]}" \
    create --user_id=metrics-dashboard --title="Card $i" >/dev/null
done
check "Prometheus scraped card-server after the dashboard's calls" wait_for_scrape_after_now
check "every query of deploy/grafana/card-server.json is taken and answered" \
  checks dashboard deploy/grafana/card-server.json "$api"

echo "scrape excerpt during the hot-user run ($reports/scrape-during-hot-user.txt):"
grep -E '^(grpc_server_handled_total\{grpc_code="OK",grpc_method="CreateCard"|grpc_server_started_total\{grpc_method="CreateCard"|grpc_server_handling_seconds_count\{grpc_method="CreateCard"|grpc_server_handling_seconds_bucket\{grpc_method="CreateCard",.*le="(0.1|1|10)"|card_server_(queued_requests|db_connections|health_serving|backstop|db_errors|user_queue_depth_(count|sum)|user_queue_depth_bucket\{le="(1|64|256|1024)"\})|grpc_server_msg_(received|sent)_total\{grpc_method="CreateCard"|process_)' \
  "$reports/scrape-during-hot-user.txt" || true
if [ "$failures" -eq 0 ]; then echo "prometheus scrape test: all passed"; else
  echo "prometheus scrape test: $failures FAILED" >&2; exit 1; fi
