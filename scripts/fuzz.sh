#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# SPDX-FileCopyrightText: 2026 The CardService Authors
# Builds the libFuzzer target (tests/fuzz/request_fuzzer.cc) with Debian's
# clang 14 and AddressSanitizer, and runs it for a bounded time over the corpus
# kept in the tree. New inputs go to a scratch directory, not into the tree;
# a crash leaves its input in build-fuzz/ and fails the script.
#
# libFuzzer's output (a line per new input, thousands) goes to
# build/reports/fuzz/fuzz.log, the build's to build/reports/fuzz/build.log;
# what this prints is one line:
#   fuzz: 123456 runs in 60 s, 0 crashes (log: build/reports/fuzz/fuzz.log)
# and on a crash the log's tail and the crash input's path.
#
#   scripts/fuzz.sh [SECONDS]     default 60
#   FUZZ_UPDATE_CORPUS=1 scripts/fuzz.sh 300   also merge new inputs into the corpus
#   FUZZ_ARGS=-malloc_limit_mb=1 scripts/fuzz.sh 5   extra libFuzzer flags (these: see a crash)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
logs=build/reports/fuzz
mkdir -p "$logs"
log=$logs/fuzz.log
# Instrument the server's code for coverage, not only the fuzz target.
if ! { cmake -S . -B build-fuzz -DCARD_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo \
         -DCMAKE_CXX_COMPILER=clang++-14 \
         -DCMAKE_CXX_FLAGS="-fsanitize=address,fuzzer-no-link -fno-omit-frame-pointer" &&
       cmake --build build-fuzz -j2 --target request_fuzzer; } >"$logs/build.log" 2>&1; then
  tail -30 "$logs/build.log"
  echo "fuzz: building request_fuzzer failed (log: $logs/build.log)" >&2
  exit 1
fi
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
# Leak checking is off: protobuf and gRPC keep process-lifetime singletons.
# A crash's input is written to build-fuzz/ (crash-<sha1>, or timeout-, oom-).
status=0 start=$SECONDS
# shellcheck disable=SC2086 # FUZZ_ARGS: zero or more flags
ASAN_OPTIONS=detect_leaks=0 build-fuzz/tests/fuzz/request_fuzzer -max_total_time="$seconds" \
  -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix=build-fuzz/ \
  "$scratch" tests/fuzz/corpus ${FUZZ_ARGS:-} >"$log" 2>&1 || status=$?

runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
took=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -1)
inputs=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log")
crashes=$(printf '%s' "$inputs" | grep -c . || true)
if [ "$status" -ne 0 ] && [ "$crashes" -eq 0 ]; then
  crashes=1  # died without writing an input (the log's tail says how)
fi
echo "fuzz: ${runs:-?} runs in ${took:-$((SECONDS - start))} s, $crashes crashes (log: $log)"
if [ "$status" -ne 0 ]; then
  echo "fuzz: request_fuzzer exited $status; the log's last 40 lines:" >&2
  tail -40 "$log" >&2
  if [ -n "$inputs" ]; then
    echo "fuzz: crash input: $inputs (replay: build-fuzz/tests/fuzz/request_fuzzer $inputs)" >&2
  fi
  exit 1
fi

# FUZZ_UPDATE_CORPUS=1: keep what was found, minimized, in the tree's corpus.
if [ "${FUZZ_UPDATE_CORPUS:-0}" = 1 ]; then
  ASAN_OPTIONS=detect_leaks=0 build-fuzz/tests/fuzz/request_fuzzer -merge=1 tests/fuzz/corpus \
    "$scratch" 2>&1 | tail -1
fi
