#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# SPDX-FileCopyrightText: 2026 The CardService Authors
# Sets up and runs every test, as named suites: installs missing Debian
# packages, builds, runs the unit and integration tests (each integration
# binary starts its own throwaway PostgreSQL), then the load tests: card-stress
# against one server, then against three replicas with one killed mid-run
# (directly and through PgBouncer), then on a Citus cluster, a bounded fuzzing
# run, and the deploy checks.
#
#   scripts/test.sh            everything (CI runs this, through .ci/run)
#   scripts/test.sh --quick    build, then the unit tests only (ctest -L unit:
#                              no PostgreSQL, no load), for the edit-test loop
#   scripts/test.sh --ci       also check-format and thread-safety-check, first
#
# Each suite's output streams and is kept in build/test-logs/NAME.log. A failing
# suite does not stop the others; the run ends with one table (suite, passed,
# failed, seconds) and the line "N passed, N failed", and exits non-zero if any
# suite failed. Adding a suite is one line: `suite NAME COMMAND [ARG...]`; if
# it has several checks, its output should end with "NAME: N passed, N failed"
# (scripts/lib/suites.sh). FUZZ_SECONDS (default 60) bounds the fuzzing.
set -euo pipefail
cd "$(dirname "$0")/.."
quick=false ci=false
for arg in "$@"; do
  case "$arg" in
    --quick) quick=true ;;
    --ci) ci=true ;;
    *) echo "usage: scripts/test.sh [--quick] [--ci]" >&2; exit 4 ;;
  esac
done

# shellcheck source=scripts/lib/suites.sh
source scripts/lib/suites.sh
suites_init build/test-logs

build() {
  cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo
  cmake --build build -j2
}

if $quick; then
  suite build build
  suite unit ctest --test-dir build -j2 -L unit --output-on-failure --timeout 120
  suites_summary
  exit
fi

suite install-deps bash scripts/install-deps.sh
if $ci; then
  suite check-format bash scripts/check-format.sh
  suite spdx /usr/bin/python3 scripts/spdx.py
  suite thread-safety bash scripts/thread-safety-check.sh
fi
suite build build
suite buf-check bash scripts/buf-check.sh
suite ctest ctest --test-dir build -j2 --output-on-failure --timeout 900
suite load-test bash scripts/load-test.sh
suite local-cluster bash deploy/local-cluster
# The replicas through Debian's PgBouncer in transaction pooling, and the
# negative control that shows the default statement mode fails there.
suite pgbouncer bash scripts/pgbouncer-test.sh
# card-server on a Citus coordinator and two workers (Citus built once from
# ../shared/citus/): card-stress verified, a worker killed mid-run, and the
# lock-split negative control.
suite citus bash scripts/citus-test.sh
# Request parsing, validation and page tokens under libFuzzer, for a bounded
# time; its output goes to build/reports/fuzz/fuzz.log, one line here.
suite fuzz bash scripts/fuzz.sh "${FUZZ_SECONDS:-60}"
# The container image, built with buildah from a local mmdebstrap base, and
# the binaries run inside it.
suite image-test bash scripts/image-test.sh
suite deploy-checks bash scripts/check-deploy.sh build/server/card-server \
  build/stress/card-stress build/client/cardctl
suites_summary
