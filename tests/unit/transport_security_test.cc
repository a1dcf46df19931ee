// What card-server accepts as transport security before anything listens
// (server/app/tls_credentials.h): which addresses count as loopback, and which
// flag combinations stop start-up. Handshakes and policies on a running server
// are tests/tls_authz_pgtest.cc.
#include "gtest/gtest.h"
#include "server/app/tls_credentials.h"

namespace card::app {
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

absl::Status Create(const TransportSecurityOptions& options) {
  return ServerSecurity::Create(options).status();
}

TEST(ServerSecurity, RefusesPlaintextBeyondLoopbackUnlessAllowedExplicitly) {
  TransportSecurityOptions options;
  options.listen = "0.0.0.0:50051";
  absl::Status refused = Create(options);
  EXPECT_EQ(refused.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(refused.message().find("refusing to serve plaintext on 0.0.0.0:50051"),
            std::string::npos);
  EXPECT_NE(refused.message().find("--allow_insecure_listen"), std::string::npos);
  options.allow_insecure_listen = true;
  absl::StatusOr<std::unique_ptr<ServerSecurity>> allowed =
      ServerSecurity::Create(options);
  ASSERT_TRUE(allowed.ok()) << allowed.status();
  EXPECT_EQ((*allowed)->description(), "plaintext");
  options = {};
  options.listen = "127.0.0.1:0";
  EXPECT_TRUE(Create(options).ok());
}

TEST(ServerSecurity, RefusesContradictoryFlags) {
  TransportSecurityOptions options;
  options.listen = "127.0.0.1:0";
  options.tls_cert_file = "server.crt";
  EXPECT_EQ(Create(options).message(), "--tls_cert_file and --tls_key_file go together");
  options = {};
  options.listen = "127.0.0.1:0";
  options.tls_client_ca_file = "ca.crt";
  EXPECT_NE(Create(options).message().find("--tls_client_ca_file needs"),
            std::string::npos);
  options = {};
  options.listen = "127.0.0.1:0";
  options.authz_policy_file = "policy.json";
  EXPECT_NE(Create(options).message().find("--authz_policy_file needs TLS"),
            std::string::npos);
}

TEST(ServerSecurity, UnreadableCertificateNamesTheFlag) {
  TransportSecurityOptions options;
  options.listen = "127.0.0.1:0";
  options.tls_cert_file = "/nonexistent/server.crt";
  options.tls_key_file = "/nonexistent/server.key";
  absl::Status status = Create(options);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("--tls_cert_file: cannot read /nonexistent/server.crt"),
            std::string::npos)
      << status;
}

}  // namespace
}  // namespace card::app
