#!/usr/bin/env bash
# Sets up and runs every test: installs missing Debian packages, builds, runs
# the unit and integration tests (each integration binary starts its own
# throwaway PostgreSQL), then the load tests: card-stress against one server,
# then against three replicas with one killed mid-run (directly and through
# PgBouncer), a bounded fuzzing run,
# and the deploy checks.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build build -j2
(cd build && ctest -j2 --output-on-failure --timeout 900)
bash scripts/load-test.sh
bash deploy/local-cluster
# The replicas through Debian's PgBouncer in transaction pooling, and the
# negative control that shows the default statement mode fails there.
bash scripts/pgbouncer-test.sh
# Request parsing, validation and page tokens under libFuzzer, for a bounded time.
bash scripts/fuzz.sh "${FUZZ_SECONDS:-60}"
bash scripts/image-test.sh
if [ -x scripts/check-deploy.sh ]; then
  bash scripts/check-deploy.sh build/server/card-server build/stress/card-stress \
    build/client/cardctl
fi
