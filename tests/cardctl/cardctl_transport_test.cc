// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
// cardctl over TLS, and the retry policy its channel's service config
// declares: which calls gRPC resends on UNAVAILABLE, and how often.
#include <stdlib.h>

#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tests/cardctl/cardctl_fixture.h"
#include "tests/support/pg_environment.h"

namespace card::testing {
namespace {

// A card-server with a self-signed certificate for the name card.test (not for
// 127.0.0.1, so the name must be overridden).
class CardctlTlsTest : public CardctlTest {
 protected:
  void Configure(app::ServerConfig& options) override {
    char dir[] = "/tmp/cardctl-tls-XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    dir_ = dir;
    RunCommand(
        absl::StrCat("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 "
                     "-nodes -days 1 ",
                     "-subj /CN=card.test -addext subjectAltName=DNS:card.test -keyout ",
                     dir_, "/key.pem -out ", dir_, "/cert.pem 2>&1"));
    options.security.tls_cert_file = dir_ + "/cert.pem";
    options.security.tls_key_file = dir_ + "/key.pem";
  }
  void TearDown() override {
    CardctlTest::TearDown();
    if (!dir_.empty()) RunCommand("rm -rf " + dir_);
  }

  CardctlRun Tls(std::vector<std::string> args) const {
    args.insert(args.begin(), {"--tls", "--tls_ca_file=" + dir_ + "/cert.pem"});
    return Cardctl(args);
  }

  std::string dir_;
};

TEST_F(CardctlTlsTest, TalksTlsWithTheGivenCaAndServerName) {
  CardctlRun run = Tls({"--tls_server_name=card.test", "health"});
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out, "SERVING\n");
  run = Tls({"--tls_server_name=card.test", "--output=json", "create", "--user_id=alice",
             "--title=Over TLS"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  v1::Card card = ParseJson<v1::Card>(run.out);
  run = Tls({"--tls_server_name=card.test", "get", "--user_id=alice",
             "--card_id=" + card.id()});
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(Query("SELECT title FROM cards")[0][0].as<std::string>(), "Over TLS");
}

TEST_F(CardctlTlsTest, RefusesWhatItCannotVerify) {
  // The certificate is not for 127.0.0.1.
  CardctlRun run = Tls({"--timeout=2s", "health"});
  EXPECT_EQ(run.exit_code, 7) << run.err;
  // Not signed by the system's roots.
  run = Cardctl({"--tls", "--tls_server_name=card.test", "--timeout=2s", "health"});
  EXPECT_EQ(run.exit_code, 7) << run.err;
  // Plaintext to a TLS port.
  run = Cardctl({"--timeout=2s", "health"});
  EXPECT_EQ(run.exit_code, 7) << run.err;
  EXPECT_TRUE(run.err.rfind("UNAVAILABLE: ", 0) == 0 ||
              run.err.rfind("DEADLINE_EXCEEDED: ", 0) == 0)
      << run.err;
  // This server requires no client certificate: none of these is about one.
  EXPECT_EQ(run.err.find("hint:"), std::string::npos) << run.err;
  run = Tls({"--timeout=2s", "health"});
  EXPECT_EQ(run.err.find("hint:"), std::string::npos) << run.err;
}

// The same server requiring a client certificate chaining to that same
// self-signed certificate (mutual TLS): cardctl presents one with
// --tls_cert_file/--tls_key_file.
class CardctlMutualTlsTest : public CardctlTlsTest {
 protected:
  void Configure(app::ServerConfig& options) override {
    CardctlTlsTest::Configure(options);
    options.security.tls_client_ca_file = dir_ + "/cert.pem";
  }
};

TEST_F(CardctlMutualTlsTest, PresentsItsCertificateWhenTheServerRequiresOne) {
  std::string cert = "--tls_cert_file=" + dir_ + "/cert.pem";
  std::string key = "--tls_key_file=" + dir_ + "/key.pem";
  CardctlRun run = Tls({"--tls_server_name=card.test", cert, key, "health"});
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out, "SERVING\n");
  // Without a certificate the handshake fails: unavailable, and the hint says why.
  run = Tls({"--tls_server_name=card.test", "--timeout=2s", "health"});
  EXPECT_EQ(run.exit_code, 7) << run.err;
  EXPECT_NE(run.err.find("hint: the server requires a client certificate "
                         "(--tls_cert_file/--tls_key_file)"),
            std::string::npos)
      << run.err;
  // A call, not only health.
  run = Tls({"--tls_server_name=card.test", "--timeout=2s", "get", "--user_id=alice",
             "--card_id=00000000-0000-0000-0000-000000000000"});
  EXPECT_EQ(run.exit_code, 7) << run.err;
  EXPECT_NE(run.err.find("hint: the server requires a client certificate"),
            std::string::npos)
      << run.err;
}

TEST_F(CardctlMutualTlsTest, CertificateFlagsNeedEachOtherAndTls) {
  std::string cert = "--tls_cert_file=" + dir_ + "/cert.pem";
  std::string key = "--tls_key_file=" + dir_ + "/key.pem";
  CardctlRun run = Cardctl({cert, key, "health"});
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.err.find("need --tls"), std::string::npos) << run.err;
  run = Tls({"--tls_server_name=card.test", cert, "health"});
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.err.find("--tls_cert_file and --tls_key_file go together"),
            std::string::npos)
      << run.err;
  run = Tls(
      {"--tls_server_name=card.test", cert, "--tls_key_file=/nonexistent.key", "health"});
  EXPECT_EQ(run.exit_code, 2) << run.err;
}

// Fails the first `failures` calls of every method with UNAVAILABLE, then
// answers; counts the calls that reach it.
class FlakyCardService final : public v1::CardService::Service {
 public:
  explicit FlakyCardService(int failures) : failures_(failures) {}

  int Calls(const std::string& method) {
    std::lock_guard<std::mutex> lock(mutex_);
    return calls_[method];
  }
  std::set<std::string> RequestIds() {
    std::lock_guard<std::mutex> lock(mutex_);
    return request_ids_;
  }

  grpc::Status CreateCard(grpc::ServerContext*, const v1::CreateCardRequest* request,
                          v1::Card* card) override {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      request_ids_.insert(request->request_id());
    }
    if (Fail("CreateCard")) return Unavailable();
    *card = request->card();
    card->set_id("card-1");
    return grpc::Status::OK;
  }
  grpc::Status GetCard(grpc::ServerContext*, const v1::GetCardRequest* request,
                       v1::Card* card) override {
    if (Fail("GetCard")) return Unavailable();
    card->set_id(request->card_id());
    return grpc::Status::OK;
  }
  grpc::Status ListCards(grpc::ServerContext*, const v1::ListCardsRequest*,
                         v1::ListCardsResponse* response) override {
    if (Fail("ListCards")) return Unavailable();
    response->add_cards()->set_id("card-1");
    return grpc::Status::OK;
  }
  grpc::Status UpdateCard(grpc::ServerContext*, const v1::UpdateCardRequest* request,
                          v1::Card* card) override {
    if (Fail("UpdateCard")) return Unavailable();
    *card = request->card();
    return grpc::Status::OK;
  }
  grpc::Status DeleteCard(grpc::ServerContext*, const v1::DeleteCardRequest*,
                          google::protobuf::Empty*) override {
    return Fail("DeleteCard") ? Unavailable() : grpc::Status::OK;
  }
  grpc::Status SetDefaultCard(grpc::ServerContext*,
                              const v1::SetDefaultCardRequest* request,
                              v1::Card* card) override {
    if (Fail("SetDefaultCard")) return Unavailable();
    card->set_id(request->card_id());
    card->set_is_default(true);
    return grpc::Status::OK;
  }
  grpc::Status GetDefaultCard(grpc::ServerContext*, const v1::GetDefaultCardRequest*,
                              v1::Card* card) override {
    if (Fail("GetDefaultCard")) return Unavailable();
    card->set_id("card-1");
    return grpc::Status::OK;
  }
  grpc::Status GetSharedCard(grpc::ServerContext*,
                             const v1::GetSharedCardRequest* request,
                             v1::SharedCard* card) override {
    if (Fail("GetSharedCard")) return Unavailable();
    card->set_slug(request->slug());
    return grpc::Status::OK;
  }
  grpc::Status CreatePlatformLink(grpc::ServerContext*,
                                  const v1::CreatePlatformLinkRequest* request,
                                  v1::PlatformLink* link) override {
    if (Fail("CreatePlatformLink")) return Unavailable();
    *link = request->link();
    return grpc::Status::OK;
  }
  grpc::Status ListPlatformLinks(grpc::ServerContext*,
                                 const v1::ListPlatformLinksRequest*,
                                 v1::ListPlatformLinksResponse*) override {
    return Fail("ListPlatformLinks") ? Unavailable() : grpc::Status::OK;
  }
  grpc::Status DeletePlatformLink(grpc::ServerContext*,
                                  const v1::DeletePlatformLinkRequest*,
                                  google::protobuf::Empty*) override {
    return Fail("DeletePlatformLink") ? Unavailable() : grpc::Status::OK;
  }

 private:
  static grpc::Status Unavailable() {
    return grpc::Status(grpc::StatusCode::UNAVAILABLE, "flaky on purpose");
  }
  bool Fail(const std::string& method) {
    std::lock_guard<std::mutex> lock(mutex_);
    return ++calls_[method] <= failures_;
  }

  const int failures_;
  std::mutex mutex_;
  std::map<std::string, int> calls_;
  std::set<std::string> request_ids_;
};

class FlakyServer {
 public:
  explicit FlakyServer(int failures) : service_(failures) {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    builder.RegisterService(&service_);
    server_ = builder.BuildAndStart();
  }
  ~FlakyServer() { server_->Shutdown(); }

  FlakyCardService& service() { return service_; }
  CardctlRun Cardctl(std::vector<std::string> args) {
    args.insert(args.begin(),
                {absl::StrCat("--target=127.0.0.1:", port_), "--timeout=10s"});
    return RunCardctl(args);
  }

 private:
  FlakyCardService service_;
  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
};

struct MethodCase {
  std::string method;
  std::vector<std::string> args;
};

TEST(CardctlRetryTest, ReadsCreateAndSetDefaultAreRetriedOnUnavailable) {
  FlakyServer server(/*failures=*/2);
  const std::vector<MethodCase> cases = {
      {"CreateCard", {"create", "--user_id=u", "--title=T"}},
      {"GetCard", {"get", "--user_id=u", "--card_id=c"}},
      {"ListCards", {"list", "--user_id=u"}},
      {"SetDefaultCard", {"set-default", "--user_id=u", "--card_id=c"}},
      {"GetDefaultCard", {"get-default", "--user_id=u"}},
      {"GetSharedCard", {"shared", "--slug=s"}},
      {"ListPlatformLinks", {"links", "list", "--user_id=u"}},
  };
  for (const MethodCase& c : cases) {
    CardctlRun run = server.Cardctl(c.args);
    EXPECT_EQ(run.exit_code, 0) << c.method << ": " << run.err;
    EXPECT_EQ(server.service().Calls(c.method), 3) << c.method;
  }
  // Every attempt of the create carried the same, generated request_id.
  std::set<std::string> request_ids = server.service().RequestIds();
  ASSERT_EQ(request_ids.size(), 1u);
  EXPECT_EQ(request_ids.begin()->size(), 36u);
}

TEST(CardctlRetryTest, OtherMutationsAreNotResent) {
  FlakyServer server(/*failures=*/2);
  const std::vector<MethodCase> cases = {
      {"UpdateCard", {"update", "--user_id=u", "--card_id=c", "--title=T"}},
      {"DeleteCard", {"delete", "--user_id=u", "--card_id=c"}},
      {"CreatePlatformLink",
       {"links", "create", "--user_id=u", "--platform=p", "--username=n",
        "--url=https://x"}},
      {"DeletePlatformLink", {"links", "delete", "--user_id=u", "--link_id=l"}},
  };
  for (const MethodCase& c : cases) {
    CardctlRun run = server.Cardctl(c.args);
    EXPECT_EQ(run.exit_code, 7) << c.method << ": " << run.err;
    EXPECT_EQ(run.err, "UNAVAILABLE: flaky on purpose\n") << c.method;
    EXPECT_EQ(server.service().Calls(c.method), 1) << c.method;
  }
}

TEST(CardctlRetryTest, GivesUpAfterFourAttempts) {
  FlakyServer server(/*failures=*/1000);
  CardctlRun run = server.Cardctl({"get", "--user_id=u", "--card_id=c"});
  EXPECT_EQ(run.exit_code, 7) << run.err;
  EXPECT_EQ(run.err, "UNAVAILABLE: flaky on purpose\n");
  EXPECT_EQ(server.service().Calls("GetCard"), 4);
}

}  // namespace
}  // namespace card::testing
