// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
// Callers behind a front proxy (deploy/proxy). gRPC 1.51 cannot bound HTTP/2
// abuse itself (docs/research/http2-abuse-grpc-1.51.md), so deploys put
// HAProxy in front: it terminates the callers' mutual TLS, verifies their
// certificates against the same CA, and connects to card-server with mutual
// TLS of its own. The server then sees one peer, the proxy; the caller's
// verified certificate arrives with each call, base64 DER, in the header
// kForwardedClientCertHeader.
//
// The header is believed only from a peer whose own verified certificate
// names one of the configured proxy identities (--trusted_proxy_identities);
// from anybody else it is ignored. So a caller is still identified by a
// certificate before it is trusted, checked once by the proxy, and only a
// proxy can speak for somebody else.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "server/security/peer_identity.h"

namespace card::security {

// HAProxy: http-request set-header card-forwarded-client-cert %[ssl_c_der,base64]
inline constexpr char kForwardedClientCertHeader[] = "card-forwarded-client-cert";

// The names of a forwarded client certificate; owns what its View() points to.
struct ForwardedCertificate {
  std::string subject;  // RFC 2253, as gRPC reports a direct peer's subject.
  std::vector<std::string> uri_sans;
  std::vector<std::string> dns_sans;

  // As if the caller had connected directly with this certificate.
  PeerIdentity View() const;
};

class ProxyTrust {
 public:
  // `proxy_identities`: URI or DNS SANs; an empty list trusts no proxy.
  explicit ProxyTrust(std::vector<std::string> proxy_identities);

  bool enabled() const { return !proxy_identities_.empty(); }

  // Whether `peer`'s verified certificate names one of the proxies.
  bool IsProxy(const PeerIdentity& peer) const;

  // The certificate in a kForwardedClientCertHeader value; INVALID_ARGUMENT if
  // it is not base64 DER of an X.509 certificate. Parsed certificates are
  // kept (a deploy has a handful of callers), so a call costs a hash lookup;
  // the cache is emptied when it reaches kMaxCached, bounding its memory.
  absl::StatusOr<std::shared_ptr<const ForwardedCertificate>> Parse(
      absl::string_view header_value) const ABSL_LOCKS_EXCLUDED(mu_);

  static constexpr size_t kMaxCached = 1024;
  // Header values beyond this are refused unparsed: a certificate is ~1-2 KiB.
  static constexpr size_t kMaxHeaderBytes = 16 * 1024;

 private:
  const std::vector<std::string> proxy_identities_;
  mutable absl::Mutex mu_;
  mutable absl::flat_hash_map<std::string, std::shared_ptr<const ForwardedCertificate>>
      cache_ ABSL_GUARDED_BY(mu_);
};

}  // namespace card::security
