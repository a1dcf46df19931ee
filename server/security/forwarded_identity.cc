// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
#include "server/security/forwarded_identity.h"

#include <openssl/bio.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <utility>

#include "absl/strings/escaping.h"

namespace card::security {
namespace {

struct OpenSslDeleter {
  void operator()(BIO* bio) const { BIO_free(bio); }
  void operator()(X509* cert) const { X509_free(cert); }
  void operator()(GENERAL_NAMES* names) const { GENERAL_NAMES_free(names); }
};
template <typename T>
using OpenSslPtr = std::unique_ptr<T, OpenSslDeleter>;

// The subject the way gRPC's TLS stack writes a direct peer's (X509_NAME_print_ex,
// RFC 2253), so a policy matches a caller the same with or without the proxy.
std::string SubjectOf(X509* certificate) {
  OpenSslPtr<BIO> out(BIO_new(BIO_s_mem()));
  X509_NAME_print_ex(out.get(), X509_get_subject_name(certificate), 0, XN_FLAG_RFC2253);
  char* data = nullptr;
  long size = BIO_get_mem_data(out.get(), &data);
  return std::string(data, static_cast<size_t>(size));
}

void AddSans(X509* certificate, ForwardedCertificate* names) {
  OpenSslPtr<GENERAL_NAMES> sans(static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(certificate, NID_subject_alt_name, nullptr, nullptr)));
  if (sans == nullptr) return;
  for (int i = 0; i < sk_GENERAL_NAME_num(sans.get()); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(sans.get(), i);
    if (name->type != GEN_URI && name->type != GEN_DNS) continue;
    const ASN1_IA5STRING* text =
        name->type == GEN_URI ? name->d.uniformResourceIdentifier : name->d.dNSName;
    std::string value(reinterpret_cast<const char*>(ASN1_STRING_get0_data(text)),
                      static_cast<size_t>(ASN1_STRING_length(text)));
    (name->type == GEN_URI ? names->uri_sans : names->dns_sans)
        .push_back(std::move(value));
  }
}

}  // namespace

PeerIdentity ForwardedCertificate::View() const {
  PeerIdentity peer;
  peer.tls = true;
  peer.has_certificate = true;
  peer.subject = subject;
  peer.uri_sans.assign(uri_sans.begin(), uri_sans.end());
  peer.dns_sans.assign(dns_sans.begin(), dns_sans.end());
  return peer;
}

ProxyTrust::ProxyTrust(std::vector<std::string> proxy_identities)
    : proxy_identities_(std::move(proxy_identities)) {}

bool ProxyTrust::IsProxy(const PeerIdentity& peer) const {
  if (!peer.has_certificate) return false;
  auto named = [&](absl::string_view san) {
    return std::find(proxy_identities_.begin(), proxy_identities_.end(), san) !=
           proxy_identities_.end();
  };
  return std::any_of(peer.uri_sans.begin(), peer.uri_sans.end(), named) ||
         std::any_of(peer.dns_sans.begin(), peer.dns_sans.end(), named);
}

absl::StatusOr<std::shared_ptr<const ForwardedCertificate>> ProxyTrust::Parse(
    absl::string_view header_value) const {
  if (header_value.size() > kMaxHeaderBytes) {
    return absl::InvalidArgumentError("the forwarded client certificate is too large");
  }
  {
    absl::MutexLock lock(&mu_);
    auto found = cache_.find(header_value);
    if (found != cache_.end()) return found->second;
  }
  std::string der;
  if (!absl::Base64Unescape(header_value, &der)) {
    return absl::InvalidArgumentError("the forwarded client certificate is not base64");
  }
  const unsigned char* next = reinterpret_cast<const unsigned char*>(der.data());
  OpenSslPtr<X509> certificate(d2i_X509(nullptr, &next, static_cast<long>(der.size())));
  if (certificate == nullptr ||
      next != reinterpret_cast<const unsigned char*>(der.data()) + der.size()) {
    return absl::InvalidArgumentError(
        "the forwarded client certificate is not one DER X.509 certificate");
  }
  auto names = std::make_shared<ForwardedCertificate>();
  names->subject = SubjectOf(certificate.get());
  AddSans(certificate.get(), names.get());
  absl::MutexLock lock(&mu_);
  if (cache_.size() >= kMaxCached) cache_.clear();
  cache_.emplace(std::string(header_value), names);
  return std::shared_ptr<const ForwardedCertificate>(std::move(names));
}

}  // namespace card::security
