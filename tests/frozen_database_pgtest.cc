// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
// A database that stops answering (SIGSTOP), restarts, or a port already taken
// never hangs or misleads the server: calls end near their deadline, health
// follows the database, SIGTERM ends the process on time, stale connections
// are replaced before use. Probes from issue "One user, one request or one
// frozen database never takes the service down", asserting the new behaviour.
#include <signal.h>
#include <sys/wait.h>

#include <algorithm>
#include <iostream>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "tests/support/health.h"
#include "tests/support/pg_environment.h"
#include "tests/support/ports.h"
#include "tests/support/processes.h"
#include "tests/support/server_fixture.h"

namespace card::testing {
namespace {

class FrozenDatabaseTest : public CardServerTest {
 protected:
  void SetUp() override {
    if (!PostgresEnvironment::Get().owns_cluster())
      GTEST_SKIP() << "needs its own cluster";
    CardServerTest::SetUp();
  }
  void Configure(app::ServerConfig& options) override {
    options.service.max_request_time = absl::Seconds(3);
  }
  void TearDown() override {
    if (frozen_) PostgresEnvironment::Get().ThawServer();
    CardServerTest::TearDown();
  }
  void Freeze() {
    PostgresEnvironment::Get().FreezeServer();
    frozen_ = true;
  }
  void Thaw() {
    PostgresEnvironment::Get().ThawServer();
    frozen_ = false;
  }
  bool frozen_ = false;
};

// Probe: PostgreSQL frozen 25 s, calls without a deadline. Before: calls took
// 25 s (the cap is 10 s) and health stayed SERVING.
TEST_F(FrozenDatabaseTest, CallsEndNearTheirDeadlineAndHealthFollowsTheDatabase) {
  v1::Card card;
  ASSERT_TRUE(Create("alice", "Before", &card).ok());
  Freeze();
  absl::Time frozen_at = absl::Now();
  std::vector<std::thread> callers;
  std::vector<absl::Duration> took(6);
  std::vector<grpc::Status> statuses(6);
  for (int i = 0; i < 6; ++i) {
    callers.emplace_back([&, i] {
      auto stub = v1::CardService::NewStub(NewChannel(10 + i));
      grpc::ClientContext no_deadline;
      absl::Time start = absl::Now();
      v1::Card out;
      if (i % 2 == 0) {
        v1::GetCardRequest get;
        get.set_user_id("alice");
        get.set_card_id(card.id());
        statuses[i] = stub->GetCard(&no_deadline, get, &out);
      } else {
        v1::CreateCardRequest create;
        create.set_user_id(absl::StrCat("frozen-", i));
        create.mutable_card()->set_title("During");
        statuses[i] = stub->CreateCard(&no_deadline, create, &out);
      }
      took[i] = absl::Now() - start;
    });
  }
  absl::Duration to_not_serving =
      TimeUntilHealth(target(), kNotServing, absl::Seconds(10));
  for (std::thread& caller : callers) caller.join();
  for (int i = 0; i < 6; ++i) {
    EXPECT_LE(took[i], absl::Seconds(3) + absl::Seconds(1)) << "call " << i;
    EXPECT_TRUE(statuses[i].error_code() == StatusCode::DEADLINE_EXCEEDED ||
                statuses[i].error_code() == StatusCode::UNAVAILABLE)
        << statuses[i].error_code() << " " << statuses[i].error_message();
  }
  std::cout << "frozen: calls without a deadline took up to "
            << *std::max_element(took.begin(), took.end())
            << " (cap 3 s); health NOT_SERVING after " << to_not_serving << "\n";
  EXPECT_LE(to_not_serving, absl::Seconds(5))
      << "from the freeze: " << absl::Now() - frozen_at;

  absl::SleepFor(absl::Seconds(2));
  Thaw();
  absl::Duration to_serving = TimeUntilHealth(target(), kServing, absl::Seconds(10));
  std::cout << "thawed: health SERVING after " << to_serving << "\n";
  EXPECT_LE(to_serving, absl::Seconds(5));
  EXPECT_TRUE(Create("alice", "After", &card).ok());
}

// Probe: PostgreSQL restarted. Before: stale pooled connections failed 3 more
// requests 3-8 s after health said SERVING again.
TEST_F(FrozenDatabaseTest, NoRequestFailsOnAStaleConnectionOnceHealthIsServing) {
  // Every pooled connection in use once, so the pool is full of them.
  std::vector<std::thread> warmers;
  for (int i = 0; i < 8; ++i) {
    warmers.emplace_back([&, i] {
      v1::Card card;
      Create(absl::StrCat("warm-", i), "Warm", &card);
    });
  }
  for (std::thread& warmer : warmers) warmer.join();
  sql_.reset();
  PostgresEnvironment::Get().StopServer();
  PostgresEnvironment::Get().StartServer();
  ASSERT_LE(TimeUntilHealth(target(), kServing, absl::Seconds(15)), absl::Seconds(15));
  int failed = 0;
  for (int i = 0; i < 50; ++i) {
    v1::Card card;
    grpc::Status status = Create(absl::StrCat("after-", i % 10), "After", &card);
    if (!status.ok()) {
      ++failed;
      ADD_FAILURE() << "call " << i << ": " << status.error_message();
    }
  }
  EXPECT_EQ(failed, 0);
  sql_ = std::make_unique<pqxx::connection>(database_url_);
}

// Probe: a second card-server on the same --listen port started and shared it.
TEST_F(FrozenDatabaseTest, ASecondServerOnTheSamePortRefusesToStart) {
  app::ServerConfig options;
  options.transport.listen = target();
  options.database.url = database_url_;
  absl::StatusOr<std::unique_ptr<app::CardServer>> second =
      app::CardServer::Start(options);
  EXPECT_FALSE(second.ok()) << "two servers on " << target();
}

// Probe: SIGTERM 4 s into a freeze, --shutdown_grace=3s. Before: health stayed
// SERVING and the process exited only after PostgreSQL resumed, 17 s later.
TEST(FrozenDatabaseProcess, SigtermEndsTheProcessWithinGracePlusTwoSeconds) {
  if (!PostgresEnvironment::Get().owns_cluster()) GTEST_SKIP() << "needs its own cluster";
  std::string url = PostgresEnvironment::Get().CreateDatabase();
  std::string target = absl::StrCat("127.0.0.1:", UnusedLoopbackPort());
  pid_t pid = Spawn({CARD_SERVER_BINARY, "--database_url=" + url, "--listen=" + target,
                     "--shutdown_grace=3s", "--max_request_time=30s"});
  ASSERT_LE(TimeUntilHealth(target, kServing, absl::Seconds(30)), absl::Seconds(30));

  auto stub = v1::CardService::NewStub(
      grpc::CreateChannel(target, grpc::InsecureChannelCredentials()));
  PostgresEnvironment::Get().FreezeServer();
  absl::Time frozen_at = absl::Now();
  grpc::ClientContext context;
  v1::CreateCardRequest request;
  request.set_user_id("alice");
  request.mutable_card()->set_title("In flight");
  v1::Card card;
  absl::Notification done;
  stub->async()->CreateCard(&context, &request, &card,
                            [&](grpc::Status) { done.Notify(); });
  EXPECT_LE(TimeUntilHealth(target, kNotServing, absl::Seconds(5)), absl::Seconds(5));
  absl::SleepFor(frozen_at + absl::Seconds(4) - absl::Now());  // SIGTERM 4 s in
  absl::Time signalled = absl::Now();
  kill(pid, SIGTERM);
  int status = 0;
  while (waitpid(pid, &status, WNOHANG) == 0 &&
         absl::Now() - signalled < absl::Seconds(20)) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  absl::Duration took = absl::Now() - signalled;
  PostgresEnvironment::Get().ThawServer();
  if (took >= absl::Seconds(20)) {
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
  }
  std::cout << "SIGTERM during the freeze: exited after " << took << "\n";
  EXPECT_LE(took, absl::Seconds(5)) << "grace 3 s + 2 s";
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  done.WaitForNotification();
}

}  // namespace
}  // namespace card::testing
