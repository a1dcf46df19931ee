#!/usr/bin/env bash
# Builds the libFuzzer target (tests/fuzz/request_fuzzer.cc) with Debian's
# clang 14 and AddressSanitizer, and runs it for a bounded time over the corpus
# kept in the tree. New inputs go to a scratch directory, not into the tree;
# a crash leaves its input in build-fuzz/ and fails the script.
#
#   scripts/fuzz.sh [SECONDS]     default 60
#   FUZZ_UPDATE_CORPUS=1 scripts/fuzz.sh 300   also merge new inputs into the corpus
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
# Instrument the server's code for coverage, not only the fuzz target.
cmake -S . -B build-fuzz -DCARD_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_COMPILER=clang++-14 \
  -DCMAKE_CXX_FLAGS="-fsanitize=address,fuzzer-no-link -fno-omit-frame-pointer" >/dev/null
cmake --build build-fuzz -j2 --target request_fuzzer
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
cd build-fuzz
# Leak checking is off: protobuf and gRPC keep process-lifetime singletons.
ASAN_OPTIONS=detect_leaks=0 ./tests/fuzz/request_fuzzer -max_total_time="$seconds" \
  -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 "$scratch" ../tests/fuzz/corpus
# FUZZ_UPDATE_CORPUS=1: keep what was found, minimized, in the tree's corpus.
if [ "${FUZZ_UPDATE_CORPUS:-0}" = 1 ]; then
  ASAN_OPTIONS=detect_leaks=0 ./tests/fuzz/request_fuzzer -merge=1 ../tests/fuzz/corpus \
    "$scratch" 2>&1 | tail -1
fi
