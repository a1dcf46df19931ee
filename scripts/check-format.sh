#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# SPDX-FileCopyrightText: 2026 The CardService Authors
# Fails if any C++ file in the repository differs from what clang-format (Debian
# bookworm's, version 14, with the checked-in .clang-format) would make of it.
# Fix with: git ls-files '*.cc' '*.h' | xargs clang-format -i
set -euo pipefail
cd "$(dirname "$0")/.."
command -v clang-format >/dev/null || { echo "check-format: clang-format missing (apt-get install clang-format)" >&2; exit 2; }
files=$(git ls-files '*.cc' '*.h' 2>/dev/null || find server client stress tests \( -name '*.cc' -o -name '*.h' \))
# shellcheck disable=SC2086 # one word per file name; the tree has no spaces in names
if clang-format --dry-run -Werror $files; then
  echo "check-format: $(echo "$files" | wc -l) C++ files formatted as .clang-format says"
else
  echo "check-format: FAILED; run: git ls-files '*.cc' '*.h' | xargs clang-format -i" >&2
  exit 1
fi
