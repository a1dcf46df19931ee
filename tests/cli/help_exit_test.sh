#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# SPDX-FileCopyrightText: 2026 The CardService Authors
# Every binary answers --help and --helpfull with its flags and exit code 0,
# without Abseil's "Try --helpfull" hint (issue 22: --helpfull exited 1).
# Usage: help_exit_test.sh BINARY...
set -u
failures=0 checks=0
for binary in "$@"; do
  for flag in --help --helpfull; do
    checks=$((checks + 1))
    out=$("$binary" "$flag" 2>&1)
    code=$?
    name="$(basename "$binary") $flag"
    if [ "$code" -ne 0 ]; then
      echo "FAIL $name: exit code $code"; failures=$((failures + 1)); continue
    fi
    if grep -q "Try --helpfull" <<<"$out"; then
      echo "FAIL $name: prints Abseil's \"Try --helpfull\""; failures=$((failures + 1)); continue
    fi
    # Lists flags at all (an empty listing would also exit 0).
    if ! grep -qE '^ +--[a-z_]+' <<<"$out"; then
      echo "FAIL $name: lists no flags"; failures=$((failures + 1)); continue
    fi
    echo "ok   $name"
  done
done
echo "$((checks - failures)) passed, $failures failed"
[ "$failures" -eq 0 ]
