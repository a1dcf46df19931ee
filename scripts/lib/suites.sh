# SPDX-License-Identifier: Apache-2.0
# SPDX-FileCopyrightText: 2026 The CardService Authors
# shellcheck shell=bash
# Sourced, not run: how scripts/test.sh runs its suites. Each suite's output
# streams as it comes (CI logs stay live) and is also kept in LOGS/NAME.log; a
# failing suite does not stop the ones after it; suites_summary prints the
# table (suite, passed, failed, seconds) and returns non-zero if any failed.
#
#   source scripts/lib/suites.sh
#   suites_init build/test-logs
#   suite NAME COMMAND [ARG...]      # one line per suite
#   suites_summary                   # last line: "N passed, N failed"
#
# COMMAND runs in a subshell with `set -e`: a shell function of the caller's
# is fine. Its counts come from its own output (scripts/cardlib/suites.py): a
# last line "[NAME: ]N passed, N failed", ctest's summary, or else its exit
# status as 1/0.

SUITES_LOGS=

# suites_init DIR: keeps the logs of this run in DIR (emptied first).
suites_init() {
  SUITES_LOGS=$1
  rm -rf "$SUITES_LOGS"
  mkdir -p "$SUITES_LOGS"
  : >"$SUITES_LOGS/suites.tsv"
  # Python tools print as they go, not when their pipe's buffer fills.
  export PYTHONUNBUFFERED=1
}

# suite NAME COMMAND [ARG...]: runs COMMAND, its output to the terminal and to LOGS/NAME.log.
suite() {
  local name=$1 start=$SECONDS status
  shift
  local log=$SUITES_LOGS/$name.log
  echo "==> $name: $*"
  set +e
  (
    set -e
    "$@"
  ) 2>&1 | tee "$log"
  status=${PIPESTATUS[0]}
  set -e
  local seconds=$((SECONDS - start))
  printf '%s\t%s\t%s\t%s\n' "$name" "$status" "$seconds" "$log" >>"$SUITES_LOGS/suites.tsv"
  echo "==> $name: exit $status after $seconds s"
  echo
}

# suites_summary: the table and the totals' line; fails if any suite failed.
suites_summary() {
  echo "==> summary (each suite's output: $SUITES_LOGS/NAME.log)"
  /usr/bin/python3 "$(dirname "${BASH_SOURCE[0]}")/../suite_summary.py" "$SUITES_LOGS/suites.tsv"
}
