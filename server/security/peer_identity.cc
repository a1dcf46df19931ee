// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
#include "server/security/peer_identity.h"

#include "absl/strings/escaping.h"
#include "grpc/grpc_security_constants.h"

namespace card::security {
namespace {

// Log lines quote at most this much of an identity or a method name.
constexpr size_t kMaxQuoted = 200;

absl::string_view View(const grpc::string_ref& ref) { return {ref.data(), ref.size()}; }

std::vector<absl::string_view> Values(const grpc::AuthContext& context,
                                      const char* name) {
  std::vector<absl::string_view> values;
  for (const grpc::string_ref& value : context.FindPropertyValues(name)) {
    values.push_back(View(value));
  }
  return values;
}

}  // namespace

PeerIdentity PeerIdentityOf(const grpc::AuthContext& context) {
  PeerIdentity peer;
  for (absl::string_view type :
       Values(context, GRPC_TRANSPORT_SECURITY_TYPE_PROPERTY_NAME)) {
    // "ssl" from SslServerCredentials, "tls" from TlsServerCredentials.
    peer.tls = type == GRPC_SSL_TRANSPORT_SECURITY_TYPE || type == "tls";
  }
  if (!peer.tls) return peer;
  std::vector<absl::string_view> subject =
      Values(context, GRPC_X509_SUBJECT_PROPERTY_NAME);
  peer.has_certificate =
      !subject.empty() || !Values(context, GRPC_X509_PEM_CERT_PROPERTY_NAME).empty();
  if (!subject.empty()) peer.subject = subject.front();
  peer.uri_sans = Values(context, GRPC_PEER_URI_PROPERTY_NAME);
  peer.dns_sans = Values(context, GRPC_PEER_DNS_PROPERTY_NAME);
  return peer;
}

std::string CallerName(const PeerIdentity& peer) {
  if (!peer.tls) return "(plaintext caller)";
  if (!peer.has_certificate) return "(TLS caller without a certificate)";
  if (!peer.uri_sans.empty()) return QuotedForLog(peer.uri_sans.front());
  if (!peer.dns_sans.empty()) return QuotedForLog(peer.dns_sans.front());
  return QuotedForLog(peer.subject);
}

std::string QuotedForLog(absl::string_view text) {
  std::string escaped = absl::CHexEscape(text.substr(0, kMaxQuoted));
  if (text.size() > kMaxQuoted) escaped += "...";
  return escaped;
}

}  // namespace card::security
