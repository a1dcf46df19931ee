// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
// The regression test for the race this service exists to prevent: many
// concurrent CreateCard calls for a user who has no cards yet, spread over
// three replicas (within one replica a user's calls already run one at a time). Without
// the per-user lock (CARD_TEST_SABOTAGE=no-lock, run by ctest as a negative control)
// these tests fail.
#include <map>
#include <set>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "tests/support/burst.h"
#include "tests/support/server_fixture.h"

namespace card::testing {
namespace {

constexpr int kChannels = 8;

class CreateRaceTest : public CardServerTest {
 protected:
  void Configure(app::ServerConfig& options) override {
    options.database.repository.pool_size = options.scheduler.workers = 16;
  }
  int Replicas() const override { return 3; }

  std::vector<std::shared_ptr<grpc::Channel>> Channels() {
    std::vector<std::shared_ptr<grpc::Channel>> channels;
    for (int i = 0; i < kChannels; ++i) channels.push_back(NewChannel(100 + i));
    return channels;
  }

  void StalledBurstMakesOneDefault(const std::string& user_id);

  static v1::CreateCardRequest Request(const std::string& user_id, int n,
                                       const std::string& request_id = "") {
    v1::CreateCardRequest request;
    request.set_user_id(user_id);
    request.mutable_card()->set_title(absl::StrCat("Card ", n));
    request.set_request_id(request_id);
    return request;
  }
};

TEST_F(CreateRaceTest, FiveHundredConcurrentCreatesForOneNewUser) {
  std::vector<v1::CreateCardRequest> requests;
  for (int i = 0; i < 500; ++i) requests.push_back(Request("hot-user", i));
  std::vector<CreateOutcome> outcomes = CreateAllAtOnce(Channels(), requests);

  int acknowledged = 0, defaults_acknowledged = 0;
  std::set<std::string> ids;
  for (const CreateOutcome& outcome : outcomes) {
    ASSERT_TRUE(outcome.status.ok())
        << outcome.status.error_code() << " " << outcome.status.error_message();
    ++acknowledged;
    defaults_acknowledged += outcome.card.is_default();
    ids.insert(outcome.card.id());
  }
  EXPECT_EQ(acknowledged, 500);
  EXPECT_EQ(ids.size(), 500u);
  EXPECT_EQ(defaults_acknowledged, 1);
  std::vector<UserCounts> counts = CountsByUser();
  ASSERT_EQ(counts.size(), 1u);
  EXPECT_EQ(counts[0].cards, 500);
  EXPECT_EQ(counts[0].defaults, 1);
}

// Widens the race window on purpose: the test holds a SHARE lock on `cards`,
// so every create that gets past its checks stalls at its INSERT until the
// gate opens. With the per-user lock, only one create per user is ever past
// its checks; without it, every pooled connection decides "first card" at once.
void CreateRaceTest::StalledBurstMakesOneDefault(const std::string& user_id) {
  pqxx::connection gate_conn(database_url_);
  pqxx::work gate(gate_conn);
  gate.exec0("LOCK TABLE cards IN SHARE MODE");

  std::vector<v1::CreateCardRequest> requests;
  for (int i = 0; i < 500; ++i) requests.push_back(Request(user_id, i));
  std::vector<CreateOutcome> outcomes;
  std::thread burst([&] { outcomes = CreateAllAtOnce(Channels(), requests); });
  // Open the gate once the server's connections are all waiting on something.
  for (int i = 0; i < 100; ++i) {
    int waiting = Query(
                      "SELECT count(*) FROM pg_stat_activity WHERE application_name = "
                      "'card-server' AND wait_event_type = 'Lock'")[0][0]
                      .as<int>();
    if (waiting >= 16) break;
    absl::SleepFor(absl::Milliseconds(50));
  }
  gate.commit();
  burst.join();

  int defaults_acknowledged = 0;
  for (const CreateOutcome& outcome : outcomes) {
    ASSERT_TRUE(outcome.status.ok())
        << outcome.status.error_code() << " " << outcome.status.error_message();
    defaults_acknowledged += outcome.card.is_default();
  }
  EXPECT_EQ(defaults_acknowledged, 1);
  std::vector<UserCounts> counts = CountsByUser();
  ASSERT_EQ(counts.size(), 1u);
  EXPECT_EQ(counts[0].cards, 500);
  EXPECT_EQ(counts[0].defaults, 1);
}

TEST_F(CreateRaceTest, FiveHundredCreatesStalledAtTheirInsertStillMakeOneDefault) {
  StalledBurstMakesOneDefault("stalled-user");
}

// The decision must be made on a snapshot taken after the lock is granted, so
// the server insists on READ COMMITTED even if the database defaults to
// REPEATABLE READ (whose snapshot would predate the lock).
TEST_F(CreateRaceTest, DatabaseDefaultOfRepeatableReadDoesNotBreakTheGuarantee) {
  Query(
      "DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET default_transaction_isolation "
      "TO ''repeatable read''', current_database()); END $$");
  StalledBurstMakesOneDefault("repeatable-read-user");
}

TEST_F(CreateRaceTest, TwentyConcurrentCreatesEachForOneHundredNewUsers) {
  std::vector<v1::CreateCardRequest> requests;
  for (int i = 0; i < 20; ++i) {
    for (int user = 0; user < 100; ++user) {
      requests.push_back(Request(absl::StrCat("user-", user), i));
    }
  }
  std::vector<CreateOutcome> outcomes = CreateAllAtOnce(Channels(), requests);
  std::map<std::string, int> acknowledged;
  for (const CreateOutcome& outcome : outcomes) {
    ASSERT_TRUE(outcome.status.ok()) << outcome.status.error_message();
    ++acknowledged[outcome.card.user_id()];
  }
  std::vector<UserCounts> counts = CountsByUser();
  ASSERT_EQ(counts.size(), 100u);
  int users_with_one_default = 0;
  for (const UserCounts& user : counts) {
    EXPECT_EQ(user.cards, acknowledged[user.user_id]) << user.user_id;
    EXPECT_EQ(user.defaults, 1)
        << user.user_id << " has " << user.defaults << " defaults";
    users_with_one_default += user.defaults == 1;
  }
  EXPECT_EQ(users_with_one_default, 100);
}

TEST_F(CreateRaceTest, ConcurrentRetriesOfOneRequestMakeOneCard) {
  // 40 logical creates, each sent 10 times at once with its request id.
  std::vector<v1::CreateCardRequest> requests;
  for (int attempt = 0; attempt < 10; ++attempt) {
    for (int n = 0; n < 40; ++n) {
      requests.push_back(Request("retrying-user", n, absl::StrCat("request-", n)));
    }
  }
  std::vector<CreateOutcome> outcomes = CreateAllAtOnce(Channels(), requests);
  std::map<std::string, std::set<std::string>> ids_by_title;
  for (const CreateOutcome& outcome : outcomes) {
    ASSERT_TRUE(outcome.status.ok()) << outcome.status.error_message();
    ids_by_title[outcome.card.title()].insert(outcome.card.id());
  }
  ASSERT_EQ(ids_by_title.size(), 40u);
  for (const auto& [title, ids] : ids_by_title) EXPECT_EQ(ids.size(), 1u) << title;
  std::vector<UserCounts> counts = CountsByUser();
  ASSERT_EQ(counts.size(), 1u);
  EXPECT_EQ(counts[0].cards, 40);
  EXPECT_EQ(counts[0].defaults, 1);
}

}  // namespace
}  // namespace card::testing
