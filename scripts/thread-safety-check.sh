#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# SPDX-FileCopyrightText: 2026 The CardService Authors
# Clang's thread-safety analysis (-Wthread-safety -Werror, clang 14) over every
# C++ file the project compiles: the locking annotated with ABSL_GUARDED_BY /
# ABSL_EXCLUSIVE_LOCKS_REQUIRED / ABSL_LOCKS_EXCLUDED is checked by the
# compiler, not by review. GCC ignores those annotations; this is where they
# bite.
#
#   scripts/thread-safety-check.sh [BUILD_DIR [PATH_PREFIX...]]
#     BUILD_DIR: default build-thread-safety. PATH_PREFIX (e.g. server/exec/):
#     check only the files under it, for a quick look while editing.
#
# Fast by construction: a second build tree configured with clang++-14 only to
# export its compile commands and generate the protobuf sources; then each file
# gets a syntax-only parse (no code generated, nothing linked), in parallel.
# The file-by-file work is scripts/thread_safety_check.py.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir="${1:-build-thread-safety}"
shift || true
clang=/usr/bin/clang++-14
[[ -x $clang ]] || { echo "thread-safety-check: $clang missing (apt-get install clang-14)" >&2; exit 2; }

generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
if [[ -f $build_dir/CMakeCache.txt ]] && ! grep -q "CMAKE_CXX_COMPILER:[A-Z]*=$clang\$" "$build_dir/CMakeCache.txt"; then
  echo "thread-safety-check: $build_dir is not a $clang tree; pass another directory" >&2
  exit 2
fi
if [[ -f $build_dir/CMakeCache.txt ]]; then generator=(); fi  # keep the tree's own
cmake -S . -B "$build_dir" "${generator[@]}" -DCMAKE_BUILD_TYPE=Debug \
  -DCMAKE_CXX_COMPILER="$clang" -DCMAKE_EXPORT_COMPILE_COMMANDS=ON >/dev/null

# The generated sources the files include (protobuf and gRPC headers). With
# Ninja: just those outputs. Otherwise: the proto libraries that own them.
if [[ -f $build_dir/build.ninja ]]; then
  mapfile -t generated < <(ninja -C "$build_dir" -t targets all |
    sed -n 's/^\(.*\.pb\.\(h\|cc\)\): CUSTOM_COMMAND$/\1/p')
  ninja -C "$build_dir" "${generated[@]}" >/dev/null
else
  mapfile -t proto_targets < <(cmake --build "$build_dir" --target help |
    sed -n 's/^\.\.\. \([A-Za-z0-9_]*_proto\)$/\1/p')
  cmake --build "$build_dir" -j"$(nproc)" --target "${proto_targets[@]}" >/dev/null
fi

exec /usr/bin/python3 scripts/thread_safety_check.py "$build_dir" "$PWD" "$(nproc)" "$@"
