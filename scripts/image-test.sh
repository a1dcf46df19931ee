#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# SPDX-FileCopyrightText: 2026 The CardService Authors
# Builds deploy/Dockerfile for real with Debian's buildah and runs the three
# binaries inside the image: `card-server --version`, `cardctl --help`,
# `card-stress --version`, and `ldd` of each, which must find every library.
#
#   scripts/image-test.sh
#
# No registry is reachable here, only Debian's package mirrors, so the FROM
# images are made locally: mmdebstrap makes a bookworm minbase tarball, which
# is imported and tagged as every name the Dockerfile's FROM lines use
# (debian:bookworm and debian:bookworm-slim; one base serves both). Short
# names resolve through containers-common's alias
# ("debian" = "docker.io/library/debian"), so the base is tagged with the
# docker.io/library/ names, and with localhost/ ones for hosts without it.
#
# Everything lives in its own storage root under CARD_IMAGE_CACHE
# (default /var/cache/cardservice-image): removing containers and images
# there never touches another user's buildah or podman storage. The base
# tarball and the imported base image are kept between runs, keyed by the
# ISO week, so security updates reach the base at least weekly; the built
# image, the build stage's image and every container are removed on exit,
# which keeps the vfs driver's full layer copies bounded.
#
# If this machine cannot run a container (buildah run fails on the base), the
# script says so and exits 3: the chroot fallback is not written yet.
set -euo pipefail
cd "$(dirname "$0")/.."

cache=${CARD_IMAGE_CACHE:-/var/cache/cardservice-image}
key="bookworm-$(date -u +%G-W%V)"
image=localhost/cardservice:image-test
base_names=(docker.io/library/debian:bookworm docker.io/library/debian:bookworm-slim
            localhost/debian:bookworm localhost/debian:bookworm-slim)
mkdir -p "$cache/storage" "$cache/run"

bh() { buildah --root "$cache/storage" --runroot "$cache/run" --storage-driver vfs "$@"; }
say() { echo "image-test: $*" >&2; }
start=$SECONDS
lap() { say "$1 ($((SECONDS - start))s so far)"; }

# One run at a time: two builds in one storage root would remove each other's
# containers on exit.
exec 9>"$cache/lock"
flock 9
# A run killed before its cleanup left containers (each a full vfs copy):
# the storage root is this script's own, so all of them go.
bh rm --all >/dev/null 2>&1 || true
bh rmi --prune >/dev/null 2>&1 || true

containers=()
cleanup() {
  for c in "${containers[@]}"; do bh rm "$c" >/dev/null 2>&1 || true; done
  bh rmi "$image" >/dev/null 2>&1 || true
  # The build stage's image and any layer a failed build left behind: every
  # image without a name. The base images keep theirs.
  bh rmi --prune >/dev/null 2>&1 || true
}
trap cleanup EXIT

# The base tarball of this week; older ones are removed.
tarball="$cache/base-$key.tar"
if [ ! -s "$tarball" ]; then
  say "making the $key base with mmdebstrap (cached as $tarball)"
  rm -f "$cache"/base-*.tar
  mmdebstrap --quiet --variant=minbase bookworm "$tarball.tmp"
  mv "$tarball.tmp" "$tarball"
  lap "base tarball made"
fi

# The imported base, tagged with every FROM name; re-imported when the key
# changes or any name is missing.
imported=$(cat "$cache/base-imported" 2>/dev/null || true)
have_all=1
for name in "${base_names[@]}"; do
  bh inspect --type image "$name" >/dev/null 2>&1 || have_all=0
done
if [ "$imported" != "$key" ] || [ "$have_all" = 0 ]; then
  say "importing the $key base into $cache/storage"
  for name in "${base_names[@]}"; do bh rmi "$name" >/dev/null 2>&1 || true; done
  ctr=$(bh from scratch)
  containers+=("$ctr")
  bh add "$ctr" "$tarball" / >/dev/null
  bh config --cmd /bin/bash "$ctr"
  bh commit --quiet --rm "$ctr" "${base_names[0]}" >/dev/null
  for name in "${base_names[@]:1}"; do bh tag "${base_names[0]}" "$name"; done
  echo "$key" >"$cache/base-imported"
  lap "base imported"
fi

# Can this machine run a container at all? chroot isolation needs no user
# namespaces and no OCI runtime, but a locked-down host may still refuse it.
probe=$(bh from --pull-never debian:bookworm-slim)
containers+=("$probe")
if ! bh run --isolation=chroot "$probe" -- true; then
  say "FAIL: this machine refuses to run a container (buildah run --isolation=chroot);" \
      "the chroot fallback is not implemented"
  exit 3
fi
say "path: container build (buildah bud --isolation=chroot, vfs storage)"

# The Dockerfile's ignore file is named after it; buildah does not look for
# that name itself, so it is given explicitly.
# Docker's image format: the OCI one has no HEALTHCHECK, and buildah would
# drop it with a warning.
bh bud --quiet --format docker --isolation=chroot --pull-never --layers=false \
  --ignorefile deploy/Dockerfile.dockerignore -f deploy/Dockerfile -t "$image" . >/dev/null
lap "image built"

run_ctr=$(bh from --pull-never "$image")
containers+=("$run_ctr")
failures=0
# expect NAME EXIT_CODE TEXT -- ARGV...: runs ARGV in the image as its user
# (USER 10001), requires that exit code and TEXT in stdout.
expect() {
  local name=$1 want_rc=$2 text=$3 out rc
  shift 4
  set +e
  out=$(bh run --isolation=chroot "$run_ctr" -- "$@" 2>&1)
  rc=$?
  set -e
  if [ "$rc" -ne "$want_rc" ] || ! grep -qF -- "$text" <<<"$out"; then
    say "FAIL $name: exit $rc (want $want_rc), output lacks '$text':"
    printf '%s\n' "$out" | head -20 >&2
    failures=$((failures + 1))
  else
    say "ok $name: $(head -1 <<<"$out")"
  fi
}
version=$(sed -n 's/^project(CardService VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)
expect "card-server --version" 0 "card-server $version" -- card-server --version
expect "cardctl --help" 0 "Usage: cardctl" -- cardctl --help
expect "card-stress --version" 0 "card-stress $version" -- card-stress --version
for binary in card-server cardctl card-stress; do
  set +e
  missing=$(bh run --isolation=chroot "$run_ctr" -- ldd "/usr/local/bin/$binary" 2>&1 |
            grep 'not found')
  set -e
  if [ -n "$missing" ]; then
    say "FAIL ldd $binary: $missing"
    failures=$((failures + 1))
  else
    say "ok ldd $binary: every library found"
  fi
done
healthcheck=$(bh inspect --type image --format '{{.Docker.Config.Healthcheck}}' "$image")
if grep -q cardctl <<<"$healthcheck"; then
  say "ok HEALTHCHECK kept: $healthcheck"
else
  say "FAIL the image has no cardctl HEALTHCHECK: '$healthcheck'"
  failures=$((failures + 1))
fi
# The user the image runs as: Kubernetes' runAsNonRoot needs it numeric.
expect "runs as uid 10001" 0 "10001" -- id -u

lap "done, $failures failure(s)"
[ "$failures" -eq 0 ]
