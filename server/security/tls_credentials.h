// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
// How the listening port is secured: TransportSecurityOptions (the flags
// --tls_cert_file, --tls_key_file, --tls_client_ca_file, --authz_policy_file
// and --allow_insecure_listen) turned into gRPC server credentials.
//
//  * TLS: grpc::experimental::TlsServerCredentials with a
//    FileWatcherCertificateProvider reading private copies of the
//    certificate, key and client CA (server/security/certificate_mirror.h):
//    the operator's files are re-read without blocking every reload interval,
//    checked, and only then copied, so a rotated certificate reaches new
//    connections without a restart and a FIFO or a bad file is refused.
//  * mTLS: with --tls_client_ca_file every client must present a certificate
//    that chains to those roots, or the handshake fails.
//  * Authorization: with --authz_policy_file an AuthzEnforcer
//    (server/security/authz_enforcer.h) on the credentials decides every call.
//  * Plaintext only on loopback unless allow_insecure_listen
//    (server/security/listen_address.h).
//
// Everything is checked before the server starts: unreadable or malformed
// PEM files, a key that does not belong to the certificate, an expired
// certificate, an invalid policy, contradictory options. Each stops start-up
// with a message naming the field (security.tls_cert_file, ...).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "grpcpp/security/server_credentials.h"
#include "server/security/authz_enforcer.h"
#include "server/security/certificate_mirror.h"

namespace card::security {

// ServerConfig's `security`: what the operator chose (main fills it from the
// flags of the same names).
struct TransportSecurityOptions {
  std::string tls_cert_file;       // PEM chain, leaf first.
  std::string tls_key_file;        // PEM private key of the leaf.
  std::string tls_client_ca_file;  // PEM roots that client certificates must chain to.
  std::string authz_policy_file;   // gRFC A43 JSON.
  bool allow_insecure_listen = false;  // Plaintext beyond loopback (listen_address.h).
  // Front proxies (URI or DNS SANs) whose forwarded client certificates name
  // their callers (server/security/forwarded_identity.h). Needs mutual TLS.
  std::vector<std::string> trusted_proxy_identities;
  // How often the files above are re-read. A rotated certificate reaches new
  // connections up to one second later (gRPC re-reading the private copies).
  absl::Duration reload_interval = absl::Seconds(2);
  // Negative control only (tests/CMakeLists.txt): gRPC's provider reads the
  // operator's paths itself, as before certificate_mirror.h, so a test can
  // show it hanging on a FIFO.
  bool grpc_reads_operator_files_for_test = false;
};

class ServerSecurity {
 public:
  // `listen` is where the server will listen; `on_denied` hears each call the
  // policy denies (may be null); `proxies` is built from
  // options.trusted_proxy_identities (null: no proxy is trusted).
  static absl::StatusOr<std::unique_ptr<ServerSecurity>> Create(
      const TransportSecurityOptions& options, absl::string_view listen,
      DenialObserver on_denied = nullptr,
      std::shared_ptr<const ProxyTrust> proxies = nullptr);
  ~ServerSecurity();

  const std::shared_ptr<grpc::ServerCredentials>& credentials() const {
    return credentials_;
  }
  // "plaintext", "TLS", "mTLS", plus the policy's name when one is enforced.
  const std::string& description() const { return description_; }

 private:
  ServerSecurity() = default;

  // Before credentials_: the provider inside them reads the mirror's
  // directory, which goes with the mirror.
  std::unique_ptr<CertificateMirror> mirror_;
  std::shared_ptr<grpc::ServerCredentials> credentials_;
  std::shared_ptr<AuthzEnforcer> authz_;
  std::string description_;
};

}  // namespace card::security
