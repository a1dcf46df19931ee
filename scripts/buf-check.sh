#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# SPDX-FileCopyrightText: 2026 The CardService Authors
# The API's compatibility gate (docs/compatibility.md): `buf lint` on the
# module buf.yaml names, then `buf breaking` (buf.yaml's rules: WIRE_JSON and
# no deleted services, RPCs, fields or enum values) of the working tree
# against the previous commit's proto/. CI checks out the newest commit, so
# this compares that commit with its parent.
#
# Usage: scripts/buf-check.sh [REPO]
#   REPO: a git work tree with buf.yaml and proto/ (default: this repository;
#         tests/buf/buf_check_test.py points it at throwaway repositories).
#   BUF_AGAINST_REF: the commit to compare with (default HEAD~1; HEAD checks
#         uncommitted changes before committing them).
# Exit: 0 clean, 100 findings (buf's code), 2 buf missing.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
buf="${BUF:-$here/node/node_modules/.bin/buf}"
repo="$(cd "${1:-$here/..}" && pwd)"
against_ref="${BUF_AGAINST_REF:-HEAD~1}"

if [ ! -x "$buf" ]; then
  echo "buf-check: no buf at $buf (bash scripts/install-deps.sh installs it)" >&2
  exit 2
fi
cd "$repo"

"$buf" lint
echo "buf-check: buf lint clean"

# Only the breaking check needs history; lint above has already run.
if ! git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  echo "buf-check: $repo is not a git work tree: breaking check skipped"
  exit 0
fi
if ! against="$(git rev-parse --verify -q "$against_ref^{commit}")"; then
  echo "buf-check: no commit $against_ref (first commit, or a shallow clone):" \
    "breaking check skipped"
  exit 0
fi
if ! git cat-file -e "$against:proto" 2>/dev/null; then
  echo "buf-check: $against_ref has no proto/: breaking check skipped"
  exit 0
fi
# By commit hash, not by name: in a linked work tree HEAD in the shared .git
# would be another branch's. subdir=proto: the previous commit may predate
# buf.yaml, and its files must carry the same paths (devcard/card/v1/...) as
# the module's.
"$buf" breaking --against ".git#ref=$against,subdir=proto"
echo "buf-check: buf breaking clean against $against_ref ($(git rev-parse --short "$against"))"
