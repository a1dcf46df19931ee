// Database trouble ends an RPC with a status, never a hang: a user's lock held
// elsewhere, a database that goes away and comes back.
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "tests/support/burst.h"
#include "tests/support/pg_environment.h"
#include "tests/support/server_fixture.h"

namespace card::testing {
namespace {

using ::grpc::StatusCode;

class BoundedWaitTest : public CardServerTest {
 protected:
  void Configure(app::ServerConfig& options) override {
    options.database.repository.pool_size = options.scheduler.workers = 2;
    options.service.max_request_time = absl::Seconds(2);
  }

  // Holds `user_id`'s lock from outside the server, as a stuck writer would.
  std::unique_ptr<pqxx::work> HoldUserLock(pqxx::connection& conn,
                                           const std::string& user_id) {
    auto txn = std::make_unique<pqxx::work>(conn);
    txn->exec_params("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", user_id);
    return txn;
  }

  // A create for the user whose lock HoldUserLock holds.
  static v1::CreateCardRequest BusyUsersCreate() {
    v1::CreateCardRequest request;
    request.set_user_id(kBusyUser);
    request.mutable_card()->set_title("Waits");
    return request;
  }
  static constexpr char kBusyUser[] = "busy";

  grpc::health::v1::HealthCheckResponse::ServingStatus Health() {
    auto health = grpc::health::v1::Health::NewStub(NewChannel(7));
    grpc::health::v1::HealthCheckRequest request;
    grpc::health::v1::HealthCheckResponse response;
    grpc::Status status =
        health->Check(Context(absl::Seconds(2)).get(), request, &response);
    return status.ok() ? response.status()
                       : grpc::health::v1::HealthCheckResponse::UNKNOWN;
  }
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
  absl::Time give_up = absl::Now() + absl::Seconds(5);
  while (Health() == grpc::health::v1::HealthCheckResponse::SERVING &&
         absl::Now() < give_up) {
    absl::SleepFor(absl::Milliseconds(100));
  }
  EXPECT_EQ(Health(), grpc::health::v1::HealthCheckResponse::NOT_SERVING);

  PostgresEnvironment::Get().StartServer();
  give_up = absl::Now() + absl::Seconds(15);
  for (;;) {
    status = Create("alice", "During", &card, "during-outage");
    if (status.ok() || absl::Now() >= give_up) break;
    absl::SleepFor(absl::Milliseconds(200));
  }
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_FALSE(card.is_default());
  give_up = absl::Now() + absl::Seconds(5);
  while (Health() != grpc::health::v1::HealthCheckResponse::SERVING &&
         absl::Now() < give_up) {
    absl::SleepFor(absl::Milliseconds(100));
  }
  EXPECT_EQ(Health(), grpc::health::v1::HealthCheckResponse::SERVING);
  sql_ = std::make_unique<pqxx::connection>(database_url_);
  EXPECT_EQ(Query("SELECT count(*) FROM cards")[0][0].as<int>(), 2);
}

}  // namespace
}  // namespace card::testing
