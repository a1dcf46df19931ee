// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
// Callers are identified and authorized: a real card-server with mutual TLS
// and a gRFC A43 policy, real handshakes from the client library with
// certificates this test makes with the openssl command
// (scripts/lib/certs.sh), and the database checked by SQL after every call
// that must not have written.
//
// Identities: spiffe://cards.test/sa/gateway (may call everything),
// .../sa/reader (reads only), .../sa/stranger (a valid certificate the policy
// does not mention). Plus a gateway certificate from another CA and an expired one.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "client/card_client.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "tests/support/pg_environment.h"
#include "tests/support/server_fixture.h"

namespace card::testing {
namespace {

constexpr char kGateway[] = "spiffe://cards.test/sa/gateway";
constexpr char kReader[] = "spiffe://cards.test/sa/reader";
constexpr char kStranger[] = "spiffe://cards.test/sa/stranger";

// Gateway: everything; reader: reads; anyone with a certificate: health.
std::string Policy(const std::string& deny_rules = "[]") {
  return absl::StrCat(R"({"name": "cards-test", "deny_rules": )", deny_rules,
                      R"(, "allow_rules": [
    {"name": "gateway", "source": {"principals": [")",
                      kGateway, R"("]},
     "request": {"paths": ["/devcard.card.v1.CardService/*"]}},
    {"name": "reader", "source": {"principals": [")",
                      kReader, R"("]},
     "request": {"paths": ["/devcard.card.v1.CardService/Get*",
                           "/devcard.card.v1.CardService/List*"]}},
    {"name": "health", "source": {"principals": ["*"]},
     "request": {"paths": ["/grpc.health.v1.Health/*"]}}]})");
}

void WriteFile(const std::string& path, const std::string& contents) {
  std::ofstream out(path, std::ios::trunc);
  out << contents;
  ASSERT_TRUE(out.good()) << path;
}

// Replaces `path` the way a careful operator (or a ConfigMap update) does:
// write a new file, then rename it over the old one.
void ReplaceFile(const std::string& path, const std::string& contents) {
  WriteFile(path + ".new", contents);
  ASSERT_EQ(std::rename((path + ".new").c_str(), path.c_str()), 0) << path;
}

std::string CertsCommand(const std::string& dir, const std::string& commands) {
  return absl::StrCat("bash -c 'set -e; source ", CARD_SOURCE_DIR,
                      "/scripts/lib/certs.sh; cd ", dir, "; ", commands, "'");
}

class TlsAuthzTest : public CardServerTest {
 protected:
  // One set of certificates for the whole binary.
  static void SetUpTestSuite() {
    char pattern[] = "/tmp/card-tls-certs.XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    certs_ = pattern;
    RunCommand(CertsCommand(
        certs_,
        "card_ca . ca; card_ca . other-ca;"
        " card_cert . ca server card-server DNS:card-server,IP:127.0.0.1;"
        " card_cert . ca server-rotated \"card-server rotated\" "
        "DNS:card-server,IP:127.0.0.1;"
        " card_cert . ca gateway gateway URI:spiffe://cards.test/sa/gateway;"
        " card_cert . ca reader reader URI:spiffe://cards.test/sa/reader;"
        " card_cert . ca stranger stranger URI:spiffe://cards.test/sa/stranger;"
        " card_cert . other-ca impostor gateway URI:spiffe://cards.test/sa/gateway;"
        " card_cert . ca expired gateway URI:spiffe://cards.test/sa/gateway expired"));
  }
  static void TearDownTestSuite() { RunCommand("rm -rf " + certs_); }

  // The server's certificate and key are laid out as a Kubernetes Secret
  // volume does it: NAME -> ..data/NAME, ..data -> ..<version>; a rotation
  // swaps the ..data link in one rename.
  void Configure(app::ServerConfig& options) override {
    char pattern[] = "/tmp/card-tls-test.XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
    RunCommand(absl::StrCat(
        "mkdir ", dir_, "/..v1 && cp ", certs_, "/server.crt ", certs_, "/server.key ",
        dir_, "/..v1/ && ln -s ..v1 ", dir_, "/..data && ln -s ..data/server.crt ", dir_,
        "/server.crt && ln -s ..data/server.key ", dir_, "/server.key"));
    WriteFile(PolicyPath(), Policy());
    options.security.tls_cert_file = dir_ + "/server.crt";
    options.security.tls_key_file = dir_ + "/server.key";
    options.security.tls_client_ca_file = certs_ + "/ca.crt";
    options.security.authz_policy_file = PolicyPath();
    // options.security.reload_interval stays at its default (2s): the 5-second promise
    // is checked with what operators get.
    const char* sabotage = std::getenv("CARD_TEST_SABOTAGE");
    if (sabotage != nullptr && std::string(sabotage) == "grpc-reads-operator-files") {
      options.security.grpc_reads_operator_files_for_test = true;
      // The server's private copies under dir_, so that the early exit of the
      // FIFO test below leaves nothing behind when it removes dir_.
      ASSERT_EQ(setenv("TMPDIR", dir_.c_str(), 1), 0);
    }
  }

  void TearDown() override {
    CardServerTest::TearDown();
    unsetenv("TMPDIR");
    if (!dir_.empty()) RunCommand("rm -rf " + dir_);
  }

  std::string PolicyPath() const { return dir_ + "/policy.json"; }

  // A channel on a new connection, presenting certs_/NAME.crt (none if empty),
  // trusting certs_/ca.crt.
  std::shared_ptr<grpc::Channel> Channel(const std::string& name) {
    client::ClientOptions options;
    options.target = target();
    options.tls = true;
    options.tls_ca_file = certs_ + "/ca.crt";
    options.tls_server_name = "card-server";
    if (!name.empty()) {
      options.tls_cert_file = certs_ + "/" + name + ".crt";
      options.tls_key_file = certs_ + "/" + name + ".key";
    }
    grpc::ChannelArguments args;
    args.SetInt("card.test.channel", next_channel_++);
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    absl::StatusOr<std::shared_ptr<grpc::Channel>> channel =
        client::CreateChannel(options, args);
    EXPECT_TRUE(channel.ok()) << channel.status();
    return *channel;
  }

  std::unique_ptr<client::CardClient> As(const std::string& name) {
    return std::make_unique<client::CardClient>(Channel(name), absl::Seconds(5));
  }

  static grpc::Status CreateCard(client::CardClient& client, const std::string& user_id,
                                 const std::string& title, v1::Card* card = nullptr) {
    v1::CreateCardRequest request;
    request.set_user_id(user_id);
    request.mutable_card()->set_title(title);
    request.set_request_id(absl::StrCat("req-", title));
    v1::Card ignored;
    return client.CreateCard(request, card ? card : &ignored);
  }

  int Rows(const std::string& table, const std::string& user_id) {
    return Query(absl::StrCat("SELECT count(*) FROM ", table,
                              " WHERE user_id = ", sql_->quote(user_id)))[0][0]
        .as<int>();
  }

  // Every column of the user's cards, as one string.
  std::string Snapshot(const std::string& user_id) {
    return Query(absl::StrCat(
        "SELECT coalesce(json_agg(c ORDER BY c.id)::text, '') FROM cards c"
        " WHERE user_id = ",
        sql_->quote(user_id)))[0][0]
        .c_str();
  }

  static std::string certs_;
  std::string dir_;
  int next_channel_ = 1;
};

std::string TlsAuthzTest::certs_;

// A channel that cannot get past the handshake: never READY, calls UNAVAILABLE.
void ExpectHandshakeRefused(const std::shared_ptr<grpc::Channel>& channel) {
  EXPECT_FALSE(
      channel->WaitForConnected(absl::ToChronoTime(absl::Now() + absl::Seconds(2))));
  client::CardClient client(channel, absl::Seconds(2));
  v1::CreateCardRequest request;
  request.set_user_id("victim");
  request.mutable_card()->set_title("planted");
  v1::Card card;
  EXPECT_EQ(client.CreateCard(request, &card).error_code(), StatusCode::UNAVAILABLE);
}

TEST_F(TlsAuthzTest, PlaintextClientIsRefused) {
  ExpectHandshakeRefused(
      grpc::CreateChannel(target(), grpc::InsecureChannelCredentials()));
  EXPECT_EQ(Rows("cards", "victim"), 0);
}

TEST_F(TlsAuthzTest, TlsClientWithoutCertificateIsRefused) {
  ExpectHandshakeRefused(Channel(""));
  EXPECT_EQ(Rows("cards", "victim"), 0);
}

TEST_F(TlsAuthzTest, CertificateFromAnotherCaIsRefused) {
  ExpectHandshakeRefused(Channel("impostor"));  // Same SPIFFE id as the gateway.
  EXPECT_EQ(Rows("cards", "victim"), 0);
}

TEST_F(TlsAuthzTest, ExpiredCertificateIsRefused) {
  ExpectHandshakeRefused(Channel("expired"));  // Same SPIFFE id as the gateway.
  EXPECT_EQ(Rows("cards", "victim"), 0);
}

TEST_F(TlsAuthzTest, AllowedIdentityIsServed) {
  std::unique_ptr<client::CardClient> gateway = As("gateway");
  v1::Card card;
  ASSERT_TRUE(CreateCard(*gateway, "alice", "Alice", &card).ok());
  EXPECT_EQ(Rows("cards", "alice"), 1);
  v1::Card read;
  v1::GetCardRequest get;
  get.set_user_id("alice");
  get.set_card_id(card.id());
  EXPECT_TRUE(gateway->GetCard(get, &read).ok());
  grpc::health::v1::HealthCheckResponse health;
  EXPECT_TRUE(gateway->CheckHealth("", &health).ok());
}

TEST_F(TlsAuthzTest, IdentityNotInPolicyIsDeniedAndNothingIsWritten) {
  std::unique_ptr<client::CardClient> stranger = As("stranger");
  ::testing::internal::CaptureStderr();
  grpc::Status created = CreateCard(*stranger, "secret-user-42", "secret title");
  v1::CreatePlatformLinkRequest link;
  link.set_user_id("secret-user-42");
  link.mutable_link()->set_platform("github");
  link.mutable_link()->set_username("octo");
  link.mutable_link()->set_url("https://github.com/octo");
  v1::PlatformLink made;
  grpc::Status linked = stranger->CreatePlatformLink(link, &made);
  v1::ListCardsResponse listed;
  v1::ListCardsRequest list;
  list.set_user_id("secret-user-42");
  grpc::Status read = stranger->ListCards(list, &listed);
  std::string log = ::testing::internal::GetCapturedStderr();

  EXPECT_EQ(created.error_code(), StatusCode::PERMISSION_DENIED)
      << created.error_message();
  EXPECT_EQ(linked.error_code(), StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(read.error_code(), StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Rows("cards", "secret-user-42"), 0);
  EXPECT_EQ(Rows("platform_links", "secret-user-42"), 0);
  EXPECT_EQ(Rows("create_requests", "secret-user-42"), 0);
  // Authenticated, so health (allowed to "*") still answers.
  grpc::health::v1::HealthCheckResponse health;
  EXPECT_TRUE(stranger->CheckHealth("", &health).ok());
  // One line per denial naming who and what; never what was sent.
  EXPECT_NE(log.find(absl::StrCat("authz: denied ", kStranger,
                                  " calling /devcard.card.v1.CardService/CreateCard")),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("/devcard.card.v1.CardService/CreatePlatformLink"),
            std::string::npos);
  EXPECT_EQ(log.find("secret-user-42"), std::string::npos) << log;
  EXPECT_EQ(log.find("secret title"), std::string::npos) << log;
}

TEST_F(TlsAuthzTest, DenialLogIsRateLimited) {
  std::unique_ptr<client::CardClient> stranger = As("stranger");
  ::testing::internal::CaptureStderr();
  for (int i = 0; i < 50; ++i) {
    EXPECT_EQ(CreateCard(*stranger, "u", absl::StrCat("t", i)).error_code(),
              StatusCode::PERMISSION_DENIED);
  }
  std::string log = ::testing::internal::GetCapturedStderr();
  int lines = 0;
  for (size_t at = 0; (at = log.find("authz: denied", at)) != std::string::npos; ++at)
    ++lines;
  EXPECT_GE(lines, 1);
  EXPECT_LE(lines, 20);  // 10 per second; the loop may straddle a second or two.
}

TEST_F(TlsAuthzTest, ReadOnlyIdentityReadsButCannotWrite) {
  v1::Card card;
  ASSERT_TRUE(CreateCard(*As("gateway"), "bob", "Bob", &card).ok());
  std::unique_ptr<client::CardClient> reader = As("reader");
  std::string before = Snapshot("bob");

  v1::GetCardRequest get;
  get.set_user_id("bob");
  get.set_card_id(card.id());
  v1::Card read;
  EXPECT_TRUE(reader->GetCard(get, &read).ok());
  EXPECT_EQ(read.title(), "Bob");
  v1::ListCardsRequest list;
  list.set_user_id("bob");
  v1::ListCardsResponse listed;
  EXPECT_TRUE(reader->ListCards(list, &listed).ok());
  EXPECT_EQ(listed.cards_size(), 1);

  EXPECT_EQ(CreateCard(*reader, "bob", "Planted").error_code(),
            StatusCode::PERMISSION_DENIED);
  v1::UpdateCardRequest update;
  update.set_user_id("bob");
  update.mutable_card()->set_id(card.id());
  update.mutable_card()->set_title("Renamed");
  update.mutable_card()->set_visibility(v1::VISIBILITY_PRIVATE);
  update.mutable_update_mask()->add_paths("title");
  update.mutable_update_mask()->add_paths("visibility");
  EXPECT_EQ(reader->UpdateCard(update, &read).error_code(),
            StatusCode::PERMISSION_DENIED);
  v1::DeleteCardRequest remove;
  remove.set_user_id("bob");
  remove.set_card_id(card.id());
  EXPECT_EQ(reader->DeleteCard(remove).error_code(), StatusCode::PERMISSION_DENIED);
  v1::SetDefaultCardRequest set_default;
  set_default.set_user_id("bob");
  set_default.set_card_id(card.id());
  EXPECT_EQ(reader->SetDefaultCard(set_default, &read).error_code(),
            StatusCode::PERMISSION_DENIED);

  EXPECT_EQ(Snapshot("bob"), before);
  EXPECT_EQ(Rows("cards", "bob"), 1);
}

TEST_F(TlsAuthzTest, RewrittenPolicyDeniesWithinFiveSecondsWithoutRestart) {
  std::unique_ptr<client::CardClient> gateway = As("gateway");
  ASSERT_TRUE(CreateCard(*gateway, "carol", "Carol").ok());
  int port = server_->port();
  v1::ListCardsRequest list;
  list.set_user_id("carol");
  v1::ListCardsResponse listed;

  absl::Time changed = absl::Now();
  ReplaceFile(PolicyPath(), Policy(absl::StrCat(R"([{"name": "gateway-suspended",
      "source": {"principals": [")",
                                                kGateway, R"("]}}])")));
  absl::Duration took = absl::InfiniteDuration();
  while (absl::Now() - changed < absl::Seconds(10)) {
    if (gateway->ListCards(list, &listed).error_code() == StatusCode::PERMISSION_DENIED) {
      took = absl::Now() - changed;
      break;
    }
    absl::SleepFor(absl::Milliseconds(50));
  }
  EXPECT_LT(took, absl::Seconds(5)) << "policy change took " << took;
  // The same server (same port, same connection); writes are refused too.
  EXPECT_EQ(server_->port(), port);
  EXPECT_EQ(CreateCard(*gateway, "carol", "Second").error_code(),
            StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Rows("cards", "carol"), 1);
  // The reader is untouched by the new deny rule.
  EXPECT_TRUE(As("reader")->ListCards(list, &listed).ok());
}

TEST_F(TlsAuthzTest, BrokenPolicyFileKeepsTheLastGoodPolicy) {
  ::testing::internal::CaptureStderr();
  ReplaceFile(PolicyPath(),
              R"({"name": "cards-test", "allow_rules": [{"name": "open"}], )");
  // Two reload intervals (2s each) and some.
  absl::SleepFor(absl::Seconds(5));
  std::string log = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(log.find("changed but is not a valid gRPC authorization policy"),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("still enforcing policy \"cards-test\""), std::string::npos) << log;

  // Still the old rules: the broken file's open rule did not take effect.
  EXPECT_EQ(CreateCard(*As("reader"), "dave", "Dave").error_code(),
            StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(CreateCard(*As("stranger"), "dave", "Dave").error_code(),
            StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Rows("cards", "dave"), 0);
  EXPECT_TRUE(CreateCard(*As("gateway"), "dave", "Dave").ok());
  EXPECT_EQ(Rows("cards", "dave"), 1);
}

// The certificate's common name as a client on a new connection sees it.
std::string ServedCommonName(const std::shared_ptr<grpc::Channel>& channel) {
  auto health = grpc::health::v1::Health::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(2)));
  grpc::health::v1::HealthCheckResponse response;
  if (!health->Check(&context, {}, &response).ok()) return "";
  std::vector<grpc::string_ref> names =
      context.auth_context()->FindPropertyValues(GRPC_X509_CN_PROPERTY_NAME);
  return names.empty() ? "" : std::string(names[0].data(), names[0].size());
}

TEST_F(TlsAuthzTest, ReplacedServerCertificateReachesNewConnectionsWithoutRestart) {
  std::shared_ptr<grpc::Channel> before = Channel("gateway");
  ASSERT_EQ(ServedCommonName(before), "card-server");
  int port = server_->port();

  // What the kubelet does when a Secret changes: a new version directory,
  // then one rename of the ..data link.
  RunCommand(absl::StrCat("mkdir ", dir_, "/..v2 && cp ", certs_, "/server-rotated.crt ",
                          dir_, "/..v2/server.crt && cp ", certs_, "/server-rotated.key ",
                          dir_, "/..v2/server.key && ln -s ..v2 ", dir_,
                          "/..data_new && mv -T ", dir_, "/..data_new ", dir_,
                          "/..data"));
  absl::Time changed = absl::Now();
  std::string seen;
  while (absl::Now() - changed < absl::Seconds(15)) {
    seen = ServedCommonName(Channel("gateway"));
    if (seen == "card-server rotated") break;
    absl::SleepFor(absl::Milliseconds(200));
  }
  EXPECT_EQ(seen, "card-server rotated") << "after " << (absl::Now() - changed);
  EXPECT_EQ(server_->port(), port);
  // The connection made before keeps working.
  EXPECT_EQ(ServedCommonName(before), "card-server");
}

std::string Contents(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  std::stringstream contents;
  contents << file.rdbuf();
  return contents.str();
}

// Issue 19 item 6: a FIFO at the certificate path is refused without blocking
// anything, and the certificate renamed over it later is served. With
// CARD_TEST_SABOTAGE=grpc-reads-operator-files gRPC opens the operator's
// paths itself, as it used to, hangs in open() on the FIFO, and this test
// fails (a ctest negative control).
TEST_F(TlsAuthzTest, FifoAtTheCertificatePathIsRefusedAndALaterCertificateServed) {
  ASSERT_EQ(ServedCommonName(Channel("gateway")), "card-server");
  const std::string cert = dir_ + "/server.crt";
  ASSERT_EQ(std::remove(cert.c_str()), 0);
  ASSERT_EQ(mkfifo(cert.c_str(), 0600), 0);
  // A second name for the FIFO, to ask at the end whether anything is stuck
  // opening it after the path was renamed over.
  const std::string fifo = dir_ + "/fifo";
  ASSERT_EQ(link(cert.c_str(), fifo.c_str()), 0);
  ::testing::internal::CaptureStderr();
  absl::SleepFor(absl::Seconds(5));  // Two reload intervals (2s each) and some.
  EXPECT_EQ(ServedCommonName(Channel("gateway")), "card-server");

  // Key first: while the certificate path is the FIFO nothing is taken.
  ReplaceFile(dir_ + "/server.key", Contents(certs_ + "/server-rotated.key"));
  ReplaceFile(cert, Contents(certs_ + "/server-rotated.crt"));
  absl::Time changed = absl::Now();
  std::string seen;
  while (absl::Now() - changed < absl::Seconds(8)) {
    seen = ServedCommonName(Channel("gateway"));
    if (seen == "card-server rotated") break;
    absl::SleepFor(absl::Milliseconds(200));
  }
  std::string log = ::testing::internal::GetCapturedStderr();
  if (seen != "card-server rotated") {
    // A reader stuck in open() on the FIFO: shutdown would join it forever,
    // and giving it a writer makes gRPC abort the process (grpc_load_file
    // sizes the file with ftell, -1 on a FIFO, and allocates that much).
    ADD_FAILURE() << "the certificate renamed over the FIFO was not served after "
                  << (absl::Now() - changed) << " (still \"" << seen
                  << "\"); exiting, since shutdown would wait for ever\n"
                  << log;
    // What the skipped teardown would have removed: the cluster, the files.
    PostgresEnvironment::Get().TearDown();
    RunCommand(absl::StrCat("rm -rf ", dir_, " ", certs_));
    std::_Exit(1);
  }
  // O_NONBLOCK: fails (ENXIO) unless a reader is waiting on the FIFO.
  int writer = open(fifo.c_str(), O_WRONLY | O_NONBLOCK);
  if (writer >= 0) close(writer);
  std::remove(fifo.c_str());
  EXPECT_EQ(writer, -1) << "something was blocked opening the FIFO";
  EXPECT_NE(log.find(cert + ": not a regular file"), std::string::npos) << log;
}

// Start-up refuses what it cannot enforce, with a message naming the problem.
TEST(TlsAuthzStartup, InvalidInitialPolicyStopsStartup) {
  char pattern[] = "/tmp/card-tls-startup.XXXXXX";
  ASSERT_NE(mkdtemp(pattern), nullptr);
  std::string dir = pattern;
  RunCommand(CertsCommand(
      dir, "card_ca . ca; card_cert . ca server card-server DNS:card-server"));
  WriteFile(dir + "/policy.json", R"({"name": "p", "allow_rules": [{"name": "a",
      "source": {"principal": ["spiffe://cards.test/sa/gateway"]}}]})");
  app::ServerConfig options;
  options.transport.listen = "127.0.0.1:0";
  options.database.url = PostgresEnvironment::Get().CreateDatabase();
  options.security.tls_cert_file = dir + "/server.crt";
  options.security.tls_key_file = dir + "/server.key";
  options.security.tls_client_ca_file = dir + "/ca.crt";
  options.security.authz_policy_file = dir + "/policy.json";
  absl::StatusOr<std::unique_ptr<app::CardServer>> server =
      app::CardServer::Start(options);
  ASSERT_FALSE(server.ok());
  EXPECT_EQ(server.status().message(),
            absl::StrCat("security.authz_policy_file ", dir,
                         "/policy.json is not a valid gRPC authorization policy: "
                         "allow_rules[0].source.principal: unknown field (a gRFC A43 "
                         "policy has no such field here)"));

  // A key that is not the certificate's.
  RunCommand(CertsCommand(dir, "card_cert . ca other other DNS:other"));
  WriteFile(dir + "/policy.json", Policy());
  options.security.tls_key_file = dir + "/other.key";
  server = app::CardServer::Start(options);
  ASSERT_FALSE(server.ok());
  EXPECT_NE(server.status().message().find("is not the key of the certificate"),
            std::string::npos)
      << server.status();
  RunCommand("rm -rf " + dir);
}

}  // namespace
}  // namespace card::testing
