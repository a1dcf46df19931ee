#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# SPDX-FileCopyrightText: 2026 The CardService Authors
# Throwaway mutual-TLS material for a laptop, CI and deploy/local-cluster: a CA,
# the server's certificate, and one client certificate per identity that
# deploy/authz/policy.json names. Valid two days; never for production (use
# cert-manager or your PKI: deploy/README.md, "Certificates").
#
#   scripts/make-dev-certs.sh DIR [TRUST_DOMAIN=cards.example]
#
# Writes into DIR (created if missing):
#   ca.crt ca.key                  the CA: the server's --tls_client_ca_file, the clients' --tls_ca_file
#   server.crt server.key          CN and DNS card-server, DNS localhost, IP 127.0.0.1,
#                                  URI spiffe://TD/ns/cards/sa/card-server
#   api-gateway.crt/.key           URI spiffe://TD/ns/gateway/sa/api-gateway (may call everything)
#   profile-renderer.crt/.key      URI spiffe://TD/ns/profiles/sa/profile-renderer (reads only)
#   monitoring.crt/.key            URI spiffe://TD/ns/monitoring/sa/prober (health and reflection only)
#   card-proxy.crt/.key            URI spiffe://TD/ns/cards/sa/card-proxy (the front proxy, deploy/proxy)
set -euo pipefail
dir=${1:?usage: scripts/make-dev-certs.sh DIR [TRUST_DOMAIN]}
domain=${2:-cards.example}
mkdir -p "$dir"
# shellcheck source=scripts/lib/certs.sh
source "$(dirname "$0")/lib/certs.sh"
card_ca "$dir" ca
card_cert "$dir" ca server card-server \
  "DNS:card-server,DNS:localhost,IP:127.0.0.1,URI:spiffe://$domain/ns/cards/sa/card-server"
card_cert "$dir" ca api-gateway api-gateway "URI:spiffe://$domain/ns/gateway/sa/api-gateway"
card_cert "$dir" ca profile-renderer profile-renderer \
  "URI:spiffe://$domain/ns/profiles/sa/profile-renderer"
card_cert "$dir" ca monitoring prober "URI:spiffe://$domain/ns/monitoring/sa/prober"
# The front proxy's client certificate towards card-server (deploy/proxy):
# --trusted_proxy_identities names it.
card_cert "$dir" ca card-proxy card-proxy "URI:spiffe://$domain/ns/cards/sa/card-proxy"
