#include "server/app/tls_credentials.h"

#include <arpa/inet.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "grpcpp/security/tls_certificate_provider.h"
#include "grpcpp/security/tls_credentials_options.h"
#include "server/app/authz_enforcer.h"
#include "server/common/log.h"
#include "server/common/read_file.h"

namespace card::app {
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

// Every certificate in the PEM file, in order. Error naming the flag if the
// file cannot be read or holds none.
absl::StatusOr<std::vector<OpenSslPtr<X509>>> ReadCertificates(absl::string_view flag,
                                                               const std::string& path) {
  absl::StatusOr<std::string> pem = ReadFileUpTo(path, kMaxPemBytes);
  if (!pem.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(flag, ": ", pem.status().message()));
  }
  OpenSslPtr<BIO> bio = MemoryBio(*pem);
  std::vector<OpenSslPtr<X509>> certificates;
  while (X509* certificate = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
    certificates.emplace_back(certificate);
  }
  ERR_clear_error();  // The read that ended the loop left an error behind.
  if (certificates.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(flag, " ", path, ": no PEM certificate in it"));
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
      ReadCertificates("--tls_cert_file", options.tls_cert_file);
  if (!chain.ok()) return chain.status();
  X509* leaf = chain->front().get();
  if (X509_cmp_current_time(X509_get0_notAfter(leaf)) <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("--tls_cert_file ", options.tls_cert_file,
                     ": the certificate expired (", NotAfter(leaf), ")"));
  }
  absl::StatusOr<std::string> pem = ReadFileUpTo(options.tls_key_file, kMaxPemBytes);
  if (!pem.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--tls_key_file: ", pem.status().message()));
  }
  OpenSslPtr<BIO> bio = MemoryBio(*pem);
  OpenSslPtr<EVP_PKEY> key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  ERR_clear_error();
  if (key == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("--tls_key_file ", options.tls_key_file,
                     ": no unencrypted PEM private key in it"));
  }
  bool matches = X509_check_private_key(leaf, key.get()) == 1;
  ERR_clear_error();
  if (!matches) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--tls_key_file ", options.tls_key_file,
        " is not the key of the certificate in --tls_cert_file ", options.tls_cert_file));
  }
  return absl::OkStatus();
}

absl::Status CheckFlagCombination(const TransportSecurityOptions& options, bool tls) {
  if (tls && (options.tls_cert_file.empty() || options.tls_key_file.empty())) {
    return absl::InvalidArgumentError("--tls_cert_file and --tls_key_file go together");
  }
  if (!tls && !options.tls_client_ca_file.empty()) {
    return absl::InvalidArgumentError(
        "--tls_client_ca_file needs the server's own certificate: set --tls_cert_file "
        "and --tls_key_file too");
  }
  if (!tls && !options.authz_policy_file.empty()) {
    return absl::InvalidArgumentError(
        "--authz_policy_file needs TLS (--tls_cert_file, --tls_key_file and "
        "--tls_client_ca_file): without it no caller has an identity to authorize");
  }
  if (!tls && !options.allow_insecure_listen &&
      !IsLoopbackListenAddress(options.listen)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "refusing to serve plaintext on ", options.listen,
        ": anyone who can reach that address could read and change every user's cards. "
        "Serve mutual TLS with an authorization policy (--tls_cert_file, --tls_key_file, "
        "--tls_client_ca_file, --authz_policy_file), listen on a loopback address, or "
        "pass --allow_insecure_listen to serve plaintext there anyway"));
  }
  return absl::OkStatus();
}

unsigned int ReloadSeconds(absl::Duration interval) {
  return static_cast<unsigned int>(std::max<int64_t>(1, absl::ToInt64Seconds(interval)));
}

}  // namespace

bool IsLoopbackListenAddress(absl::string_view listen) {
  if (absl::StartsWith(listen, "unix:") || absl::StartsWith(listen, "unix-abstract:")) {
    return true;  // Reachable only through this host's file system.
  }
  absl::ConsumePrefix(&listen, "ipv4:");
  absl::ConsumePrefix(&listen, "ipv6:");
  std::string host;
  if (absl::StartsWith(listen, "[")) {
    size_t end = listen.find(']');
    if (end == absl::string_view::npos) return false;
    host = std::string(listen.substr(1, end - 1));
  } else {
    size_t colon = listen.rfind(':');
    host =
        std::string(colon == absl::string_view::npos ? listen : listen.substr(0, colon));
  }
  if (host == "localhost") return true;
  in_addr v4;
  if (inet_pton(AF_INET, host.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6;
  if (inet_pton(AF_INET6, host.c_str(), &v6) == 1) {
    if (IN6_IS_ADDR_LOOPBACK(&v6)) return true;
    return IN6_IS_ADDR_V4MAPPED(&v6) && v6.s6_addr[12] == 127;
  }
  return false;
}

absl::StatusOr<std::unique_ptr<ServerSecurity>> ServerSecurity::Create(
    const TransportSecurityOptions& options) {
  bool tls = !options.tls_cert_file.empty() || !options.tls_key_file.empty();
  absl::Status combination = CheckFlagCombination(options, tls);
  if (!combination.ok()) return combination;
  std::unique_ptr<ServerSecurity> security(new ServerSecurity());
  if (!tls) {
    if (!IsLoopbackListenAddress(options.listen)) {
      log::Warning(absl::StrCat("serving PLAINTEXT on ", options.listen,
                                " (--allow_insecure_listen): callers are neither "
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
        ReadCertificates("--tls_client_ca_file", options.tls_client_ca_file);
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
    absl::StatusOr<std::shared_ptr<AuthzEnforcer>> authz = AuthzEnforcer::Create(
        options.authz_policy_file, options.reload_interval, options.on_denied);
    if (!authz.ok()) return authz.status();
    security->authz_ = *std::move(authz);
    security->credentials_->SetAuthMetadataProcessor(security->authz_);
    absl::StrAppend(&security->description_, ", authorization policy \"",
                    security->authz_->policy_name(), "\"");
    if (!mutual) {
      log::Warning(
          "--authz_policy_file without --tls_client_ca_file: callers present no "
          "certificate, so only rules without principals (or with \"\") can match");
    }
  } else if (mutual) {
    log::Warning(
        "--tls_client_ca_file without --authz_policy_file: every caller with a valid "
        "certificate may call every method");
  }
  log::Info(absl::StrCat("transport security: ", security->description_,
                         mutual ? absl::StrCat("; client certificates must chain to ",
                                               options.tls_client_ca_file)
                                : std::string(),
                         "; files re-read every ", seconds, "s"));
  return security;
}

ServerSecurity::~ServerSecurity() = default;

}  // namespace card::app
