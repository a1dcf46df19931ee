#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# SPDX-FileCopyrightText: 2026 The CardService Authors
# card-server through Debian's PgBouncer (1.18) in transaction pooling, on
# loopback: deploy/local-cluster --pgbouncer runs three replicas with
# --db_statement_mode=unnamed through it (first-card, hot-user, mixed, and one
# replica SIGKILLed mid-run; card-stress verifies every invariant by SQL).
# Then the negative control: the same pooler with the default
# --db_statement_mode=prepared must fail, with PostgreSQL complaining about
# the prepared statements; if it passed, the first run would prove nothing.
# Exit 0 only if the first run passes and the negative control fails that way;
# then the negative control prints "expected failure (ok)", never FAIL. Ends
# with "pgbouncer-test: N passed, N failed" (the two runs).
#   scripts/pgbouncer-test.sh [--build=build]
set -euo pipefail
cd "$(dirname "$0")/.."
build=build
for arg in "$@"; do
  case "$arg" in
    --build=*) build=${arg#*=} ;;
    *) echo "usage: scripts/pgbouncer-test.sh [--build=DIR]" >&2; exit 4 ;;
  esac
done
command -v pgbouncer >/dev/null || { echo "pgbouncer-test: pgbouncer is not installed" >&2; exit 4; }

passed=0 failed=0
echo "pgbouncer-test: --db_statement_mode=unnamed through PgBouncer must pass"
if bash deploy/local-cluster --build="$build" --pgbouncer; then
  passed=$((passed + 1))
else
  echo "pgbouncer-test: FAIL: the unnamed mode failed through PgBouncer" >&2
  failed=$((failed + 1))
fi

echo "pgbouncer-test: --db_statement_mode=prepared through PgBouncer must fail (negative control)"
negative=$(mktemp)
trap 'rm -f "$negative"' EXIT
if bash deploy/local-cluster --build="$build" --pgbouncer --db_statement_mode=prepared \
    --scenarios=hot-user,mixed --negative-control 2>&1 | tee "$negative"; then
  echo "pgbouncer-test: FAIL: prepared statements passed through PgBouncer 1.18: the" \
    "pgbouncer run above proves nothing" >&2
  failed=$((failed + 1))
elif grep -q 'prepared statement' "$negative"; then
  echo "pgbouncer-test: prepared mode through PgBouncer: expected failure (ok)," \
    "PostgreSQL refused the prepared statements"
  passed=$((passed + 1))
else
  echo "pgbouncer-test: FAIL: the negative control failed, but not on prepared statements" >&2
  failed=$((failed + 1))
fi
echo "pgbouncer-test: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
