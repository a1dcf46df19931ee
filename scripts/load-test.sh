#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# SPDX-FileCopyrightText: 2026 The CardService Authors
# The CI load test: card-stress against a real card-server on a throwaway
# PostgreSQL, verification on (through the API and by SQL). Fails on any
# invariant violation or failed request. The server runs as deployed: mutual
# TLS with throwaway certificates (scripts/make-dev-certs.sh) and the shipped
# policy deploy/authz/policy.json; card-stress calls as the API gateway.
#   0. the policy is in force: the read-only identity cannot create, a client
#      without a certificate cannot connect
#   1. first-card: 500 new users x 20 parallel creates, all 10,000 in flight at once
#   2. hot-user:   10,000 creates for one user, 1,000 in flight
#   3. mixed:      create/set-default/delete/update-links/get/list over 20 users
#   4. negative control: the same first-card run, over two replicas, against
#      the schema with the per-user lock and the partial index removed must
#      exit 1 (violation). Its failure is the point: it prints "expected
#      failure (ok)" and counts as passed; if card-stress passes there, the
#      load test fails.
# Ends with "load test: N passed, N failed" over those five checks (0-4).
# Every card-stress run leaves its reports as build output in $LOAD_REPORTS
# (default build/reports/load): NAME.junit.xml (JUnit: each check and
# threshold a test case, for CI's test view), NAME.html and NAME.json. The
# negative control's JUnit must fail, so it is without-lock.expected-failure.xml,
# out of a collector's *.junit.xml glob.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build}
reports=${LOAD_REPORTS:-$build/reports/load}
mkdir -p "$reports"

# shellcheck source=scripts/lib/throwaway-server.sh
source scripts/lib/throwaway-server.sh
card_env_init load
work=$CARD_WORK
url=$(card_pg_start 5498)
card_dev_mtls
certs=$work/certs
card_server_start server "$build/server/card-server" --database_url="$url" --db_pool_size=16 \
  "${CARD_MTLS_SERVER[@]}"
port=$CARD_SERVER_PORT
tls=("${CARD_TLS_CLIENT[@]}")
as_gateway=("${CARD_AS_GATEWAY[@]}")
as_renderer=("${CARD_AS_RENDERER[@]}")

stress() {
  local name=$1; shift
  "$build/stress/card-stress" --target=127.0.0.1:$port --database_url="$url" "${as_gateway[@]}" \
    --progress=false --format=junit --output="$reports/$name.junit.xml" \
    --html_output="$reports/$name.html" --json_output="$reports/$name.json" "$@"
}
# What CI's test view will show, from the JUnit files: each check and
# threshold a test case.
junit_summary() {
  /usr/bin/python3 scripts/junit_summary.py "$@"
}

passed=0 failed=0
# pass NAME / fail NAME: one check's result, counted for the last line.
pass() { passed=$((passed + 1)); }
fail() { failed=$((failed + 1)); }
# 0. The policy is in force (cardctl exit codes: 6 PERMISSION_DENIED, 7 UNAVAILABLE).
cardctl() { "$build/client/cardctl" --target=127.0.0.1:$port --timeout=3s "$@" >/dev/null 2>&1; }
set +e
cardctl "${as_renderer[@]}" create --user_id=policy-check --title=planted; renderer=$?
cardctl "${tls[@]}" health; anonymous=$?
# The health probe of the deployments: the server's own certificate.
cardctl "${tls[@]}" --tls_cert_file="$certs/server.crt" --tls_key_file="$certs/server.key" health
probe=$?
set -e
if [ "$renderer" -eq 6 ] && [ "$anonymous" -eq 7 ] && [ "$probe" -eq 0 ]; then
  echo "mtls-policy: read-only identity denied a create, no certificate refused, health probe served"
  pass
else
  echo "mtls-policy FAILED: renderer create exit $renderer (want 6), no certificate $anonymous" \
    "(want 7), probe health $probe (want 0)" >&2
  fail
fi
stress first-card --scenario=first-card --users=500 --burst=20 --concurrency=10000 && pass || fail
stress hot-user --scenario=hot-user --requests=10000 --concurrency=1000 && pass || fail
stress mixed --scenario=mixed --users=20 --requests=20000 --concurrency=500 && pass || fail
junit_summary "$reports"/{first-card,hot-user,mixed}.junit.xml

# Negative control: take the lock away; card-stress must see the damage.
psql -q "$url" -c "CREATE OR REPLACE FUNCTION card_lock_user(p_user_id text, p_lock_timeout_ms integer)
  RETURNS void LANGUAGE plpgsql AS \$\$ BEGIN END \$\$;
  CREATE OR REPLACE FUNCTION card_try_lock_user(p_user_id text)
  RETURNS boolean LANGUAGE sql AS \$\$ SELECT true \$\$;
  DROP INDEX cards_one_default_per_user;"
# A replica serves one user's calls one at a time, so the damage shows only
# when the calls for a user are spread over replicas: a second one joins.
card_server_start replica2 "$build/server/card-server" --database_url="$url" \
  --db_pool_size=16 --migrate=false "${CARD_MTLS_SERVER[@]}"
set +e
"$build/stress/card-stress" --target=127.0.0.1:$port,127.0.0.1:$CARD_SERVER_PORT \
  --database_url="$url" "${as_gateway[@]}" --progress=false --output="$reports/without-lock.txt" \
  --junit_output="$reports/without-lock.expected-failure.xml" \
  --html_output="$reports/without-lock.html" \
  --scenario=first-card --users=500 --burst=20 --concurrency=10000 \
  2>"$reports/without-lock.stderr"
code=$?
set -e
# Its failure is the point: it says "expected failure (ok)", never FAIL.
if [ "$code" -eq 1 ]; then
  echo "negative control: without the lock card-stress exits 1 (invariant violated): expected failure (ok)"
  junit_summary --expected-failure "$reports/without-lock.expected-failure.xml"
  pass
else
  cat "$reports/without-lock.stderr" >&2
  echo "negative control FAILED: without the lock card-stress exited $code, not 1: the" \
    "runs above prove nothing (report: $reports/without-lock.txt)" >&2
  fail
fi

if cat "$work/server.log" "$work/replica2.log" | grep -q "BUG: unique violation"; then
  echo "(server log: unique violations during the negative control, as expected without the lock)"
fi
echo "reports (JUnit, HTML, JSON): $reports"
echo "load test: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
