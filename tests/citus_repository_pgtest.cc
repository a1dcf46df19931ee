// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
// The repository's Citus mode on plain PostgreSQL: creates of several users
// handed over together go one user per call (a call across users could not be
// delegated to one user's node), each item keeps its own result, in order.
// The scheduler hands a Citus server one user's creates at a time, so only
// this test reaches the split (scripts/citus-test.sh covers the rest on a real
// cluster).
#include <gtest/gtest.h>

#include <mutex>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "server/common/metrics.h"
#include "server/storage/migrations.h"
#include "server/storage/postgres_repository.h"
#include "tests/support/pg_environment.h"

namespace card::testing {
namespace {

// Counts the create calls (ObserveBatchSize is reported once per call).
class CallCounter final : public MetricsSink {
 public:
  void ObserveLockWait(absl::Duration) override {}
  void ObserveBatchSize(int requests) override {
    std::lock_guard<std::mutex> lock(mu_);
    batches_.push_back(requests);
  }
  void ObserveUserQueueDepth(size_t) override {}
  void CountDatabaseError(absl::string_view) override {}
  void CountBackstopViolation() override {}
  void CountExpiredRequestIds(int) override {}

  std::vector<int> batches() {
    std::lock_guard<std::mutex> lock(mu_);
    return batches_;
  }

 private:
  std::mutex mu_;
  std::vector<int> batches_;
};

model::NewCard Card(const std::string& user, const std::string& title) {
  model::NewCard card;
  card.user_id = user;
  card.title = title;
  card.visibility = model::Visibility::kPublic;
  card.slug_base = title;
  return card;
}

std::vector<int> CreateInterleaved(bool citus, const std::string& prefix) {
  std::string url = PostgresEnvironment::Get().CreateDatabase();
  EXPECT_TRUE(storage::ApplyMigrations(url).ok());
  CallCounter calls;
  storage::PostgresOptions options;
  options.connection_string = url;
  options.pool_size = 1;
  options.metrics = &calls;
  options.citus = citus;
  storage::PostgresRepository repository(options);
  const std::string a = prefix + "a", b = prefix + "b", c = prefix + "c";
  std::vector<model::NewCard> cards = {Card(a, "a1"), Card(b, "b1"), Card(a, "a2"),
                                       Card(c, "c1"), Card(b, "b2")};
  auto results = repository.CreateCards(cards, absl::Now() + absl::Seconds(10));
  EXPECT_TRUE(results.ok()) << results.status();
  if (!results.ok()) return {};
  EXPECT_EQ(results->size(), cards.size());
  if (results->size() != cards.size()) return {};
  for (size_t i = 0; i < cards.size(); ++i) {
    EXPECT_TRUE((*results)[i].ok()) << i << ": " << (*results)[i].status();
    if (!(*results)[i].ok()) continue;
    EXPECT_EQ((*results)[i]->user_id, cards[i].user_id) << i;
    EXPECT_EQ((*results)[i]->title, cards[i].title) << i;
    // Each user's first card, in arrival order, is the default.
    EXPECT_EQ((*results)[i]->is_default, i < 2 || i == 3) << i;
  }
  return calls.batches();
}

TEST(CitusRepository, SeveralUsersCreatesGoOneUserPerCall) {
  EXPECT_EQ(CreateInterleaved(/*citus=*/true, "split-"), (std::vector<int>{2, 2, 1}));
}

TEST(CitusRepository, OnPlainPostgresTheyShareOneCall) {
  EXPECT_EQ(CreateInterleaved(/*citus=*/false, "shared-"), (std::vector<int>{5}));
}

}  // namespace
}  // namespace card::testing
