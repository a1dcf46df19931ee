// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
// What card-server accepts as transport security before anything listens
// (server/security/tls_credentials.h): which addresses count as loopback, and which
// flag combinations stop start-up. Handshakes and policies on a running server
// are tests/tls_authz_pgtest.cc.
#include "gtest/gtest.h"
#include "server/security/listen_address.h"
#include "server/security/tls_credentials.h"

namespace card::security {
namespace {

TEST(IsLoopbackListenAddress, OnlyAddressesNoOtherHostCanReach) {
  for (const char* address : {"127.0.0.1:50051", "127.8.9.10:1", "localhost:50051",
                              "[::1]:50051", "ipv4:127.0.0.1:5", "[::ffff:127.0.0.1]:5",
                              "unix:/run/card.sock", "unix-abstract:card"}) {
    EXPECT_TRUE(IsLoopbackListenAddress(address)) << address;
  }
  for (const char* address :
       {"0.0.0.0:50051", "[::]:50051", ":50051", "10.0.0.5:50051", "card-server:50051",
        "[fe80::1]:50051", "128.0.0.1:5", "[::1"}) {
    EXPECT_FALSE(IsLoopbackListenAddress(address)) << address;
  }
}

absl::Status Create(const TransportSecurityOptions& options,
                    absl::string_view listen = "127.0.0.1:0") {
  return ServerSecurity::Create(options, listen).status();
}

TEST(ServerSecurity, RefusesPlaintextBeyondLoopbackUnlessAllowedExplicitly) {
  TransportSecurityOptions options;
  absl::Status refused = Create(options, "0.0.0.0:50051");
  EXPECT_EQ(refused.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(refused.message().find("refusing to serve plaintext on 0.0.0.0:50051"),
            std::string::npos);
  EXPECT_NE(refused.message().find("security.allow_insecure_listen"), std::string::npos);
  options.allow_insecure_listen = true;
  absl::StatusOr<std::unique_ptr<ServerSecurity>> allowed =
      ServerSecurity::Create(options, "0.0.0.0:50051");
  ASSERT_TRUE(allowed.ok()) << allowed.status();
  EXPECT_EQ((*allowed)->description(), "plaintext");
  options = {};
  EXPECT_TRUE(Create(options).ok());
}

TEST(ServerSecurity, RefusesContradictoryFlags) {
  TransportSecurityOptions options;
  options.tls_cert_file = "server.crt";
  EXPECT_EQ(Create(options).message(),
            "security.tls_cert_file and security.tls_key_file go together");
  options = {};
  options.tls_client_ca_file = "ca.crt";
  EXPECT_NE(Create(options).message().find("security.tls_client_ca_file needs"),
            std::string::npos);
  options = {};
  options.authz_policy_file = "policy.json";
  EXPECT_NE(Create(options).message().find("security.authz_policy_file needs TLS"),
            std::string::npos);
}

TEST(ServerSecurity, UnreadableCertificateNamesTheFlag) {
  TransportSecurityOptions options;
  options.tls_cert_file = "/nonexistent/server.crt";
  options.tls_key_file = "/nonexistent/server.key";
  absl::Status status = Create(options);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find(
                "security.tls_cert_file: cannot read /nonexistent/server.crt"),
            std::string::npos)
      << status;
}

}  // namespace
}  // namespace card::security
