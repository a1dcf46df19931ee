#!/usr/bin/env bash
# Sets up and runs every test: installs missing Debian packages, builds, runs
# the unit and integration tests (each integration binary starts its own
# throwaway PostgreSQL), then whatever load tests exist.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build build -j2
(cd build && ctest -j2 --output-on-failure --timeout 900)
if [ -x scripts/load-test.sh ]; then
  bash scripts/load-test.sh
fi
