#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# SPDX-FileCopyrightText: 2026 The CardService Authors
# Builds Citus 13.2.2 from the source tarball next to the repository and installs
# it into Debian's PostgreSQL 15, once: scripts/citus-cluster.sh and the Citus
# tests need citus.so, Citus is not a Debian package and the machines cannot
# fetch it (../shared/citus/README.md has the measured facts used here).
#
#   citus-build.sh        build and install, or say in one line that it is done
#
#   CITUS_TARBALL   the source (default: shared/citus/citus-13.2.2.tar.gz beside the
#                   checkout, REPO/../shared/, or beside the nearest parent that has one)
#   PG_CONFIG       the PostgreSQL to build against
#                   (default /usr/lib/postgresql/15/bin/pg_config)
#   CITUS_JOBS      make -j (default 2)
#
# Cached: PKGLIBDIR/citus.build-stamp records the tarball's sha256, the version
# of the patch below and the sha256 of the citus.so it installed. When all three
# still match, nothing is done (well under a second); a citus.so installed any
# other way (by hand, another tarball) has no matching stamp and is rebuilt.
#
# Run as root: missing build dependencies are installed with apt-get (an
# `apt-get update` only if that fails), and `make install` writes under
# /usr/lib/postgresql and /usr/share/postgresql. Installing
# postgresql-server-dev-15 may upgrade postgresql-15 to the same point release,
# so on a fresh machine run this before starting any cluster. Concurrent runs
# wait for each other (flock). The build happens in a temporary directory under
# /var/cache/cardservice-citus (deleted afterwards); its log stays there as
# build.log.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/.." && pwd)"

CITUS_VERSION=13.2.2
# Bump when the patch below changes: the stamp then no longer matches.
PATCH_VERSION=1
# The nearest shared/citus/ beside the checkout or beside one of its parents
# (a clone at WORK/main and one at WORK/ci/main both find WORK/shared/).
find_tarball() {
  local dir=$repo
  while :; do
    dir=$(dirname "$dir")
    if [ -f "$dir/shared/citus/citus-$CITUS_VERSION.tar.gz" ]; then
      echo "$dir/shared/citus/citus-$CITUS_VERSION.tar.gz"
      return
    fi
    [ "$dir" != / ] || break
  done
  echo "$repo/../shared/citus/citus-$CITUS_VERSION.tar.gz"
}
tarball=${CITUS_TARBALL:-$(find_tarball)}
PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
jobs=${CITUS_JOBS:-2}
deps=(postgresql-server-dev-15 liblz4-dev libzstd-dev libkrb5-dev libselinux1-dev
      libxslt1-dev libpam0g-dev libreadline-dev libssl-dev make gcc)

log() { echo "citus-build: $*" >&2; }
die() { log "$*"; exit 1; }

[ -x "$PG_CONFIG" ] || die "no pg_config at $PG_CONFIG (install postgresql-15, or set PG_CONFIG)"
pkglibdir=$("$PG_CONFIG" --pkglibdir)
stamp=$pkglibdir/citus.build-stamp
if [ ! -f "$tarball" ]; then
  # A checkout away from shared/ (a scratch clone) can still use the Citus an
  # earlier run of this script built and stamped, if citus.so is unchanged.
  if [ -f "$stamp" ] && head -1 "$stamp" | grep -qx "citus $CITUS_VERSION" &&
    grep -qx "citus.so-sha256 $(sha256sum "$pkglibdir/citus.so" 2>/dev/null | cut -d' ' -f1)" \
      "$stamp"; then
    echo "citus-build: no source at $tarball; using Citus $CITUS_VERSION that this script" \
      "built in $pkglibdir (stamp matches citus.so)"
    exit 0
  fi
  die "no Citus source at $tarball (set CITUS_TARBALL)"
fi
tarball=$(cd "$(dirname "$tarball")" && pwd)/$(basename "$tarball")

# What the stamp must say for the installed citus.so to be this build.
expected_stamp() {
  echo "citus $CITUS_VERSION"
  echo "tarball-sha256 $(sha256sum "$tarball" | cut -d' ' -f1)"
  echo "patch $PATCH_VERSION"
  echo "pg $("$PG_CONFIG" --version | awk '{ split($2, v, "."); print v[1] }')"
  echo "citus.so-sha256 $(sha256sum "$pkglibdir/citus.so" | cut -d' ' -f1)"
}

up_to_date() {
  [ -f "$pkglibdir/citus.so" ] && [ -f "$stamp" ] &&
    [ "$(cat "$stamp")" = "$(expected_stamp)" ]
}

if up_to_date; then
  echo "citus-build: Citus $CITUS_VERSION already installed in $pkglibdir (stamp matches), nothing to do"
  exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
  cache=${CITUS_CACHE_DIR:-/var/cache/cardservice-citus}
else
  cache=${CITUS_CACHE_DIR:-${TMPDIR:-/tmp}/cardservice-citus-$(id -u)}
fi
mkdir -p "$cache"
exec 9>"$cache/lock"
flock 9
# Another run may have finished the build while this one waited.
if up_to_date; then
  echo "citus-build: Citus $CITUS_VERSION already installed in $pkglibdir (stamp matches), nothing to do"
  exit 0
fi
[ -f "$pkglibdir/citus.so" ] && log "citus.so in $pkglibdir has no matching stamp: rebuilding"

started=$EPOCHREALTIME
build_log=$cache/build.log
: >"$build_log"

missing=()
for pkg in "${deps[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'ok installed' || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  [ "$(id -u)" -eq 0 ] || die "missing build dependencies (${missing[*]}): run as root"
  log "installing ${missing[*]}"
  apt_install() {
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >>"$build_log" 2>&1
  }
  apt_install || {
    log "apt-get install failed; apt-get update and once more"
    apt-get update -q >>"$build_log" 2>&1 && apt_install
  } || { tail -20 "$build_log" >&2; die "could not install ${missing[*]} (log: $build_log)"; }
fi
[ -w "$pkglibdir" ] || die "$pkglibdir is not writable: run as root"

work=$(mktemp -d "$cache/build.XXXXXX")
trap 'rm -rf "$work"' EXIT
tar -xzf "$tarball" -C "$work"
src=$work/citus-$CITUS_VERSION
[ -x "$src/configure" ] || die "$tarball has no citus-$CITUS_VERSION/configure"

# The patch: for PostgreSQL < 16, pg_version_compat.h defines
#   static inline bool
#   have_createdb_privilege(void)
#   { ... }
# but Debian's 15.x already exports have_createdb_privilege(), and the build
# fails with "static declaration follows non-static declaration". Delete that
# definition (from its `static inline bool` line to the first `}` at the start
# of a line); the PostgreSQL 16 branch's #define stays.
compat=$src/src/include/pg_version_compat.h
definition='^have_createdb_privilege(void)[[:space:]]*$'
[ "$(grep -c "$definition" "$compat")" -eq 1 ] ||
  die "patch: expected one have_createdb_privilege(void) definition in $compat"
lines_before=$(wc -l <"$compat")
sed -i '/^static inline bool[[:space:]]*$/{
  N
  /\nhave_createdb_privilege(void)[[:space:]]*$/{
    :body
    N
    /\n}[[:space:]]*$/!b body
    d
  }
}' "$compat"
removed=$((lines_before - $(wc -l <"$compat")))
if grep -q "$definition" "$compat" || [ "$removed" -lt 5 ] || [ "$removed" -gt 40 ]; then
  die "patch: removing have_createdb_privilege() from $compat went wrong ($removed lines removed)"
fi
log "patched $compat (removed the static have_createdb_privilege, $removed lines)"

log "building Citus $CITUS_VERSION (make -j$jobs; log: $build_log)"
(
  cd "$src"
  ./configure --without-libcurl PG_CONFIG="$PG_CONFIG"
  nice make -j"$jobs"
  make install
) >>"$build_log" 2>&1 || { tail -30 "$build_log" >&2; die "build failed (log: $build_log)"; }

expected_stamp >"$stamp"
up_to_date || die "installed, but $stamp does not match what was installed"
elapsed=$(awk -v a="$started" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.0f", b - a }')
echo "citus-build: built and installed Citus $CITUS_VERSION in $pkglibdir in ${elapsed} s"
