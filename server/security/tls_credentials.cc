#include "server/security/tls_credentials.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "grpcpp/security/tls_certificate_provider.h"
#include "grpcpp/security/tls_credentials_options.h"
#include "server/common/log.h"
#include "server/common/read_file.h"
#include "server/security/authz_enforcer.h"
#include "server/security/listen_address.h"

namespace card::security {
namespace {

constexpr size_t kMaxPemBytes = 1 << 20;

struct OpenSslDeleter {
  void operator()(BIO* bio) const { BIO_free(bio); }
  void operator()(X509* cert) const { X509_free(cert); }
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
template <typename T>
using OpenSslPtr = std::unique_ptr<T, OpenSslDeleter>;

OpenSslPtr<BIO> MemoryBio(const std::string& contents) {
  return OpenSslPtr<BIO>(
      BIO_new_mem_buf(contents.data(), static_cast<int>(contents.size())));
}

// Every certificate in the PEM file, in order. Error naming the field if the
// file cannot be read or holds none.
absl::StatusOr<std::vector<OpenSslPtr<X509>>> ReadCertificates(absl::string_view field,
                                                               const std::string& path) {
  absl::StatusOr<std::string> pem = ReadFileUpTo(path, kMaxPemBytes);
  if (!pem.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": ", pem.status().message()));
  }
  OpenSslPtr<BIO> bio = MemoryBio(*pem);
  std::vector<OpenSslPtr<X509>> certificates;
  while (X509* certificate = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
    certificates.emplace_back(certificate);
  }
  ERR_clear_error();  // The read that ended the loop left an error behind.
  if (certificates.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, " ", path, ": no PEM certificate in it"));
  }
  return certificates;
}

std::string NotAfter(const X509* certificate) {
  OpenSslPtr<BIO> out(BIO_new(BIO_s_mem()));
  ASN1_TIME_print(out.get(), X509_get0_notAfter(certificate));
  char* data = nullptr;
  long size = BIO_get_mem_data(out.get(), &data);
  return std::string(data, static_cast<size_t>(size));
}

// The server's own certificate and key: present, matching, not expired. gRPC
// would otherwise start and fail every handshake, with the reason only in its
// own logs.
absl::Status CheckIdentity(const TransportSecurityOptions& options) {
  absl::StatusOr<std::vector<OpenSslPtr<X509>>> chain =
      ReadCertificates("security.tls_cert_file", options.tls_cert_file);
  if (!chain.ok()) return chain.status();
  X509* leaf = chain->front().get();
  if (X509_cmp_current_time(X509_get0_notAfter(leaf)) <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("security.tls_cert_file ", options.tls_cert_file,
                     ": the certificate expired (", NotAfter(leaf), ")"));
  }
  absl::StatusOr<std::string> pem = ReadFileUpTo(options.tls_key_file, kMaxPemBytes);
  if (!pem.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("security.tls_key_file: ", pem.status().message()));
  }
  OpenSslPtr<BIO> bio = MemoryBio(*pem);
  OpenSslPtr<EVP_PKEY> key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  ERR_clear_error();
  if (key == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("security.tls_key_file ", options.tls_key_file,
                     ": no unencrypted PEM private key in it"));
  }
  bool matches = X509_check_private_key(leaf, key.get()) == 1;
  ERR_clear_error();
  if (!matches) {
    return absl::InvalidArgumentError(
        absl::StrCat("security.tls_key_file ", options.tls_key_file,
                     " is not the key of the certificate in security.tls_cert_file ",
                     options.tls_cert_file));
  }
  return absl::OkStatus();
}

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

unsigned int ReloadSeconds(absl::Duration interval) {
  return static_cast<unsigned int>(std::max<int64_t>(1, absl::ToInt64Seconds(interval)));
}

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
  absl::Status identity = CheckIdentity(options);
  if (!identity.ok()) return identity;
  bool mutual = !options.tls_client_ca_file.empty();
  if (mutual) {
    absl::StatusOr<std::vector<OpenSslPtr<X509>>> roots =
        ReadCertificates("security.tls_client_ca_file", options.tls_client_ca_file);
    if (!roots.ok()) return roots.status();
  }

  // The provider re-reads the files every interval and hands changed
  // certificates to new handshakes; connections already up keep theirs.
  unsigned int seconds = ReloadSeconds(options.reload_interval);
  auto provider =
      mutual ? std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
                   options.tls_key_file, options.tls_cert_file,
                   options.tls_client_ca_file, seconds)
             : std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
                   options.tls_key_file, options.tls_cert_file, seconds);
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
                         "; files re-read every ", seconds, "s"));
  return security;
}

ServerSecurity::~ServerSecurity() = default;

}  // namespace card::security
