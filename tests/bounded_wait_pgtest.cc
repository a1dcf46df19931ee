// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
// Database trouble ends an RPC with a status, never a hang: a user's lock held
// elsewhere, a database that goes away and comes back.
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "tests/support/burst.h"
#include "tests/support/health.h"
#include "tests/support/pg_environment.h"
#include "tests/support/server_fixture.h"
#include "tests/support/user_lock.h"

namespace card::testing {
namespace {

class BoundedWaitTest : public CardServerTest {
 protected:
  void Configure(app::ServerConfig& options) override {
    options.database.repository.pool_size = options.scheduler.workers = 2;
    options.service.max_request_time = absl::Seconds(2);
  }

  // A create for the user whose lock HoldUserLock holds.
  static v1::CreateCardRequest BusyUsersCreate() {
    v1::CreateCardRequest request;
    request.set_user_id(kBusyUser);
    request.mutable_card()->set_title("Waits");
    return request;
  }
  static constexpr char kBusyUser[] = "busy";
};

TEST_F(BoundedWaitTest, LockWaitEndsAtTheCallersDeadline) {
  pqxx::connection blocker(database_url_);
  auto lock = HoldUserLock(blocker, kBusyUser);
  v1::CreateCardRequest request = BusyUsersCreate();
  v1::Card card;
  absl::Time start = absl::Now();
  grpc::Status status =
      stub_->CreateCard(Context(absl::Milliseconds(700)).get(), request, &card);
  absl::Duration took = absl::Now() - start;
  EXPECT_EQ(status.error_code(), StatusCode::DEADLINE_EXCEEDED) << status.error_message();
  EXPECT_LT(took, absl::Seconds(2));

  // The pool is not stuck behind the blocked user: with both connections
  // having served a lock-waiting call, other users still get through.
  std::vector<v1::CreateCardRequest> others;
  for (int i = 0; i < 50; ++i) {
    v1::CreateCardRequest other;
    other.set_user_id(absl::StrCat("free-", i));
    other.mutable_card()->set_title("Free");
    others.push_back(other);
  }
  for (const CreateOutcome& outcome : CreateAllAtOnce({NewChannel(1)}, others)) {
    EXPECT_TRUE(outcome.status.ok()) << outcome.status.error_message();
  }

  lock->commit();
  EXPECT_TRUE(stub_->CreateCard(Context().get(), request, &card).ok());
  EXPECT_TRUE(card.is_default());
  EXPECT_EQ(Query("SELECT count(*) FROM cards WHERE user_id = 'busy'")[0][0].as<int>(),
            1);
}

TEST_F(BoundedWaitTest, ServerCapsTheWaitWhenTheCallerSentNoDeadline) {
  pqxx::connection blocker(database_url_);
  auto lock = HoldUserLock(blocker, kBusyUser);
  v1::CreateCardRequest request = BusyUsersCreate();
  v1::Card card;
  grpc::ClientContext no_deadline;
  absl::Time start = absl::Now();
  grpc::Status status = stub_->CreateCard(&no_deadline, request, &card);
  EXPECT_EQ(status.error_code(), StatusCode::DEADLINE_EXCEEDED) << status.error_message();
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));  // max_request_time is 2 s
  EXPECT_EQ(Query("SELECT count(*) FROM cards")[0][0].as<int>(), 0);
}

TEST_F(BoundedWaitTest, DatabaseOutageIsUnavailableAndTheServerRecovers) {
  if (!PostgresEnvironment::Get().owns_cluster())
    GTEST_SKIP() << "needs the throwaway cluster";
  v1::Card card;
  ASSERT_TRUE(Create("alice", "Before", &card).ok());
  sql_.reset();

  PostgresEnvironment::Get().StopServer();
  absl::Time start = absl::Now();
  grpc::Status status = Create("alice", "During", &card, "during-outage");
  EXPECT_EQ(status.error_code(), StatusCode::UNAVAILABLE) << status.error_message();
  EXPECT_LT(absl::Now() - start, absl::Seconds(8));
  EXPECT_LE(TimeUntilHealth(target(), kNotServing, absl::Seconds(5)), absl::Seconds(5));

  PostgresEnvironment::Get().StartServer();
  absl::Time give_up = absl::Now() + absl::Seconds(15);
  for (;;) {
    status = Create("alice", "During", &card, "during-outage");
    if (status.ok() || absl::Now() >= give_up) break;
    absl::SleepFor(absl::Milliseconds(200));
  }
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_FALSE(card.is_default());
  EXPECT_LE(TimeUntilHealth(target(), kServing, absl::Seconds(5)), absl::Seconds(5));
  sql_ = std::make_unique<pqxx::connection>(database_url_);
  EXPECT_EQ(Query("SELECT count(*) FROM cards")[0][0].as<int>(), 2);
}

}  // namespace
}  // namespace card::testing
