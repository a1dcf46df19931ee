#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# SPDX-FileCopyrightText: 2026 The CardService Authors
# Checks the deployment files in deploy/ on this machine, with no container
# engine and no cluster. Exits 0 only if all of this holds:
#  * every YAML file parses (duplicate keys are errors: Kubernetes rejects them);
#  * deploy/k8s holds the expected kinds of object and they agree with each
#    other: selectors, Secret keys, the flagfile's mount path, probe ports,
#    termination grace against preStop + --shutdown_grace;
#  * every --flag given to card-server, cardctl or card-stress anywhere in
#    deploy/ (Dockerfile, compose, Kubernetes args and flagfile, systemd,
#    scripts, comments, README commands) is a flag of that program, and the
#    program accepts its value: the binary parses them itself, with --helpfull
#    appended so that it exits instead of running;
#  * a snake_case --flag mentioned on its own (in prose) is a flag of one of them;
#  * containers listen beyond loopback, and every stop timeout (compose,
#    systemd, Kubernetes) exceeds the server's --shutdown_grace;
#  * every card-server beyond loopback serves mutual TLS with the policy
#    (--tls_cert_file, --tls_key_file, --tls_client_ca_file, --authz_policy_file)
#    and its health checks present a client certificate; in Kubernetes each of
#    those files comes from a mounted Secret or ConfigMap key (never through
#    subPath, which would hide renewals), the readiness probe is an exec of
#    cardctl (the kubelet's gRPC probe cannot speak TLS), the Certificate can
#    serve and be presented and names the probe's server name, the
#    NetworkPolicy selects the pods and admits named namespaces only, the
#    policy ConfigMap equals deploy/authz/policy.json, and DATABASE_URL uses
#    sslmode=verify-full with a mounted sslrootcert;
#  * the Dockerfile's runtime stage installs, itself or as a dependency of what
#    it installs, the Debian package of every library that ldd finds for the
#    given binaries (dpkg -S), so a new library cannot be missing from the image;
#  * every PromQL expression in deploy/grafana/*.json and deploy/prometheus/
#    rules names only metrics that a real card-server (on a throwaway
#    PostgreSQL) serves, or that a rule records;
#  * the systemd unit passes systemd-analyze verify and security, if installed.
#
#   scripts/check-deploy.sh [CARD_SERVER [CARD_STRESS [CARDCTL]]]
#
# CARD_SERVER defaults to build/server/card-server and must exist. card-stress
# and cardctl flags are checked when those binaries are given and exist;
# otherwise the check says it skipped them.
#
# The checks are in scripts/check_deploy.py; this wrapper checks CARD_SERVER,
# installs python3-yaml when missing and runs them from the repository root.
set -euo pipefail
cd "$(dirname "$0")/.."

server=${1:-build/server/card-server}
stress=${2:-}
cardctl=${3:-}
if [ ! -x "$server" ]; then
  echo "check-deploy: no card-server binary at '$server' (build it, or pass its path)" >&2
  exit 2
fi

# Debian's python3 with python3-yaml, installed only when missing.
if ! /usr/bin/python3 -c 'import yaml' 2>/dev/null; then
  echo "check-deploy: installing python3-yaml" >&2
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo=sudo
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get install -y -qq --no-install-recommends python3-yaml >/dev/null 2>&1 ||
    { $sudo apt-get update -qq && $sudo apt-get install -y -qq --no-install-recommends python3-yaml; }
fi

exec /usr/bin/python3 scripts/check_deploy.py "$server" "$stress" "$cardctl"
