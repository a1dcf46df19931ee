// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
// Who is calling: the facts gRPC's AuthContext holds about the peer of a call
// (TLS or not, the verified client certificate's names). The authorization
// policy decides on them (server/security/authz_policy.h) and the access log
// names the caller by them (server/observability/grpc_call_observer.h), so
// both read the caller the same way.
#pragma once

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "grpcpp/security/auth_context.h"

namespace card::security {

// Views into the AuthContext it was read from: valid while that lives.
struct PeerIdentity {
  bool tls = false;              // The connection is TLS.
  bool has_certificate = false;  // The peer presented a verified certificate.
  std::vector<absl::string_view> uri_sans;
  std::vector<absl::string_view> dns_sans;
  absl::string_view subject;  // "CN=...,O=..." as gRPC reports it.
};

PeerIdentity PeerIdentityOf(const grpc::AuthContext& context);

// The caller's identity for log lines and metrics: first URI SAN, else first
// DNS SAN, else the subject; escaped and shortened, since a certificate is
// outside input. Placeholders in parentheses without TLS or a certificate.
std::string CallerName(const PeerIdentity& peer);

// Caller-controlled text in a log line: printable, one line, bounded.
std::string QuotedForLog(absl::string_view text);

}  // namespace card::security
