// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
#include "server/security/tls_credentials.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "grpcpp/security/tls_certificate_provider.h"
#include "grpcpp/security/tls_credentials_options.h"
#include "server/common/log.h"
#include "server/security/authz_enforcer.h"
#include "server/security/certificate_mirror.h"
#include "server/security/listen_address.h"

namespace card::security {
namespace {

absl::Status CheckFlagCombination(const TransportSecurityOptions& options,
                                  absl::string_view listen, bool tls) {
  if (tls && (options.tls_cert_file.empty() || options.tls_key_file.empty())) {
    return absl::InvalidArgumentError(
        "security.tls_cert_file and security.tls_key_file go together");
  }
  if (!tls && !options.tls_client_ca_file.empty()) {
    return absl::InvalidArgumentError(
        "security.tls_client_ca_file needs the server's own certificate: set "
        "security.tls_cert_file "
        "and security.tls_key_file too");
  }
  if (!options.trusted_proxy_identities.empty() && options.tls_client_ca_file.empty()) {
    return absl::InvalidArgumentError(
        "security.trusted_proxy_identities needs mutual TLS "
        "(security.tls_client_ca_file): a proxy is trusted only once its own "
        "certificate is verified");
  }
  if (!tls && !options.authz_policy_file.empty()) {
    return absl::InvalidArgumentError(
        "security.authz_policy_file needs TLS (security.tls_cert_file, "
        "security.tls_key_file and "
        "security.tls_client_ca_file): without it no caller has an identity to "
        "authorize");
  }
  if (!tls) {
    absl::Status plaintext = CheckPlaintextListen(listen, options.allow_insecure_listen);
    if (!plaintext.ok()) return plaintext;
  }
  return absl::OkStatus();
}

// How often gRPC re-reads the private copies: its minimum. They are small
// regular files in a directory only this process writes, so reading them is
// cheap and cannot block, and a rotation waits at most this long after the
// mirror took it.
constexpr unsigned int kCopiesReloadSeconds = 1;

}  // namespace

absl::StatusOr<std::unique_ptr<ServerSecurity>> ServerSecurity::Create(
    const TransportSecurityOptions& options, absl::string_view listen,
    DenialObserver on_denied, std::shared_ptr<const ProxyTrust> proxies) {
  bool tls = !options.tls_cert_file.empty() || !options.tls_key_file.empty();
  absl::Status combination = CheckFlagCombination(options, listen, tls);
  if (!combination.ok()) return combination;
  std::unique_ptr<ServerSecurity> security(new ServerSecurity());
  if (!tls) {
    if (!IsLoopbackListenAddress(listen)) {
      log::Warning(absl::StrCat("serving PLAINTEXT on ", listen,
                                " (security.allow_insecure_listen): callers are neither "
                                "authenticated nor authorized"));
    }
    security->credentials_ = grpc::InsecureServerCredentials();
    security->description_ = "plaintext";
    return security;
  }
  bool mutual = !options.tls_client_ca_file.empty();
  // gRPC is never given the operator's paths: its provider re-reads its files
  // with a blocking open() on a thread shutdown joins, so a FIFO there would
  // hang both (certificate_mirror.h). It reads the mirror's private copies,
  // which change only to files read without blocking and checked.
  absl::StatusOr<std::unique_ptr<CertificateMirror>> mirror = CertificateMirror::Create(
      {options.tls_cert_file, options.tls_key_file, options.tls_client_ca_file},
      options.reload_interval);
  if (!mirror.ok()) return mirror.status();
  security->mirror_ = *std::move(mirror);
  const CertificateMirror& copies = *security->mirror_;
  const bool sabotaged = options.grpc_reads_operator_files_for_test;
  const std::string key = sabotaged ? options.tls_key_file : copies.key_path();
  const std::string cert = sabotaged ? options.tls_cert_file : copies.cert_path();
  const std::string roots =
      sabotaged ? options.tls_client_ca_file : copies.client_ca_path();

  // The provider re-reads the copies every kCopiesReloadSeconds and hands
  // changed certificates to new handshakes; connections already up keep
  // theirs. A rotation reaches new connections within reload_interval (the
  // mirror) plus that.
  auto provider =
      mutual ? std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
                   key, cert, roots, kCopiesReloadSeconds)
             : std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
                   key, cert, kCopiesReloadSeconds);
  grpc::experimental::TlsServerCredentialsOptions tls_options(provider);
  tls_options.watch_identity_key_cert_pairs();
  if (mutual) {
    tls_options.watch_root_certs();
    tls_options.set_cert_request_type(
        GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  } else {
    tls_options.set_cert_request_type(GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  }
  security->credentials_ = grpc::experimental::TlsServerCredentials(tls_options);
  security->description_ = mutual ? "mTLS" : "TLS";

  if (!options.authz_policy_file.empty()) {
    absl::StatusOr<std::shared_ptr<AuthzEnforcer>> authz =
        AuthzEnforcer::Create(options.authz_policy_file, options.reload_interval,
                              std::move(on_denied), std::move(proxies));
    if (!authz.ok()) return authz.status();
    security->authz_ = *std::move(authz);
    security->credentials_->SetAuthMetadataProcessor(security->authz_);
    absl::StrAppend(&security->description_, ", authorization policy \"",
                    security->authz_->policy_name(), "\"");
    if (!mutual) {
      log::Warning(
          "security.authz_policy_file without security.tls_client_ca_file: callers "
          "present no "
          "certificate, so only rules without principals (or with \"\") can match");
    }
  } else if (mutual) {
    log::Warning(
        "security.tls_client_ca_file without security.authz_policy_file: every caller "
        "with a valid "
        "certificate may call every method");
  }
  if (!options.trusted_proxy_identities.empty()) {
    absl::StrAppend(&security->description_, ", callers forwarded by ",
                    absl::StrJoin(options.trusted_proxy_identities, ", "));
  }
  log::Info(absl::StrCat("transport security: ", security->description_,
                         mutual ? absl::StrCat("; client certificates must chain to ",
                                               options.tls_client_ca_file)
                                : std::string(),
                         "; files re-read every ",
                         absl::FormatDuration(options.reload_interval)));
  return security;
}

ServerSecurity::~ServerSecurity() = default;

}  // namespace card::security
