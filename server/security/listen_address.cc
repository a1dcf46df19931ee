// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
#include "server/security/listen_address.h"

#include <arpa/inet.h>

#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace card::security {

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

absl::Status CheckPlaintextListen(absl::string_view listen, bool allow_insecure_listen) {
  if (allow_insecure_listen || IsLoopbackListenAddress(listen)) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      "refusing to serve plaintext on ", listen,
      ": anyone who can reach that address could read and change every user's cards. "
      "Serve mutual TLS with an authorization policy (security.tls_cert_file, "
      "security.tls_key_file, security.tls_client_ca_file, security.authz_policy_file), "
      "listen on a loopback address, or set security.allow_insecure_listen to serve "
      "plaintext there anyway"));
}

}  // namespace card::security
