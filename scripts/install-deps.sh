#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# SPDX-FileCopyrightText: 2026 The CardService Authors
# Installs the Debian bookworm packages CardService needs to build, test and
# run. Idempotent: when everything is present it only checks and returns.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config clang-format clang-14 libclang-rt-14-dev
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libpqxx-dev libpq-dev libabsl-dev libssl-dev openssl libnghttp2-dev
  libgtest-dev libgmock-dev libbenchmark-dev grpc-proto
  python3-grpcio python3-grpc-tools python3-protobuf python3-yaml python3-pytest python3-h2 haproxy
  postgresql-15 postgresql-client-15 postgresql-contrib
  prometheus-cpp-dev prometheus curl libgoogle-perftools-dev
  chromium  # tests/stress/html_render_test.py: the HTML report rendered headless
  buildah mmdebstrap  # scripts/image-test.sh: the image built from a local bookworm base
  # scripts/citus-build.sh (Citus from ../shared/citus/): here, not later,
  # because postgresql-server-dev-15 may upgrade postgresql-15 to its point
  # release, which must not happen under a running test cluster.
  postgresql-server-dev-15 liblz4-dev libzstd-dev libkrb5-dev libselinux1-dev libxslt1-dev
  libpam0g-dev libreadline-dev make gcc
)
if [ "${WITH_LOAD_TOOLS:-1}" = 1 ]; then
  packages+=(nghttp2-client pgbouncer)  # h2load; scripts/pgbouncer-test.sh
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
# Node.js and npm: machines of this kind come with them; elsewhere Debian's.
command -v npm >/dev/null || missing+=(nodejs npm)

if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}" >&2
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# From the npm registry, at the versions package-lock.json pins: the buf CLI
# (buf lint, buf breaking, buf curl) and the Node example's gRPC libraries.
# In scripts/node/node_modules; reinstalled only when the lock file changes.
node_tools="$(cd "$(dirname "$0")" && pwd)/node"
if ! cmp -s "$node_tools/package-lock.json" "$node_tools/node_modules/.installed-lock.json"; then
  echo "install-deps: npm ci in $node_tools" >&2
  npm ci --prefix "$node_tools" --no-audit --no-fund --loglevel=error
  cp "$node_tools/package-lock.json" "$node_tools/node_modules/.installed-lock.json"
fi
"$node_tools/node_modules/.bin/buf" --version >/dev/null
