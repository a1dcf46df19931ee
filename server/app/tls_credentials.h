// How the listening port is secured: the flags --tls_cert_file,
// --tls_key_file, --tls_client_ca_file, --authz_policy_file and
// --allow_insecure_listen turned into gRPC server credentials.
//
//  * TLS: grpc::experimental::TlsServerCredentials with a
//    FileWatcherCertificateProvider, so the certificate, key and client CA
//    are re-read from disk every reload interval and a rotated certificate
//    reaches new connections without a restart.
//  * mTLS: with --tls_client_ca_file every client must present a certificate
//    that chains to those roots, or the handshake fails.
//  * Authorization: with --authz_policy_file an AuthzEnforcer
//    (app/authz_enforcer.h) on the credentials decides every call.
//  * Plaintext only on loopback unless --allow_insecure_listen: a plaintext
//    port reachable from the network lets anyone call every method.
//
// Everything is checked before the server starts: unreadable or malformed
// PEM files, a key that does not belong to the certificate, an expired
// certificate, an invalid policy, contradictory flags. Each stops start-up
// with a message naming the flag.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "grpcpp/security/server_credentials.h"

namespace card::app {

class AuthzEnforcer;

struct TransportSecurityOptions {
  std::string listen;              // Where the server will listen.
  std::string tls_cert_file;       // PEM chain, leaf first.
  std::string tls_key_file;        // PEM private key of the leaf.
  std::string tls_client_ca_file;  // PEM roots that client certificates must chain to.
  std::string authz_policy_file;   // gRFC A43 JSON.
  bool allow_insecure_listen = false;
  // How often the files above are re-read (the certificate provider counts
  // whole seconds, at least one).
  absl::Duration reload_interval = absl::Seconds(2);
  // Hears each call the policy denies: its path and the caller's identity.
  std::function<void(absl::string_view path, absl::string_view caller)> on_denied;
};

// True for addresses only this host can reach: 127.0.0.0/8, [::1],
// localhost, and Unix sockets. "0.0.0.0", "[::]", ":50051" and host names are not.
bool IsLoopbackListenAddress(absl::string_view listen);

class ServerSecurity {
 public:
  static absl::StatusOr<std::unique_ptr<ServerSecurity>> Create(
      const TransportSecurityOptions& options);
  ~ServerSecurity();

  const std::shared_ptr<grpc::ServerCredentials>& credentials() const {
    return credentials_;
  }
  // "plaintext", "TLS", "mTLS", plus the policy's name when one is enforced.
  const std::string& description() const { return description_; }

 private:
  ServerSecurity() = default;

  std::shared_ptr<grpc::ServerCredentials> credentials_;
  std::shared_ptr<AuthzEnforcer> authz_;
  std::string description_;
};

}  // namespace card::app
