#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# SPDX-FileCopyrightText: 2026 The CardService Authors
# No absl::Status is turned into text with ToString() (or streamed, which
# calls it) outside tests: ToString() appends the payloads, internal type URLs
# such as type.devcard.dev/card.connection_lost, to what people read in logs
# and messages. Use card::ForPeople (server/common/status.h) or message().
# Usage: status_log_check.sh SOURCE_DIR
set -u
cd "$1" || exit 2
hits=$(grep -rnE '[sS]tatus(\(\))?\.ToString\(\)|<< *[A-Za-z_.>()-]*[sS]tatus(\(\))? *(<<|;)' \
         --include='*.cc' --include='*.h' server client stress cli)
if [ -n "$hits" ]; then
  echo "a status turned into text with its payloads (use card::ForPeople or message()):"
  echo "$hits"
  echo "0 passed, 1 failed"
  exit 1
fi
echo "1 passed, 0 failed"
