// The card-server binary as operators run it: flags, --migrate_only from
// several replicas at once, SIGTERM draining and exit code 0.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "tests/support/health.h"
#include "tests/support/pg_environment.h"
#include "tests/support/ports.h"
#include "tests/support/processes.h"
#include "tests/support/server_fixture.h"
#include "tests/support/user_lock.h"

namespace card::testing {
namespace {

TEST(ServerProcess, MigrateOnlyFromSeveralReplicasAtOnceAppliesEachMigrationOnce) {
  std::string url = PostgresEnvironment::Get().CreateDatabase();
  std::vector<pid_t> replicas;
  for (int i = 0; i < 4; ++i) {
    replicas.push_back(
        Spawn({CARD_SERVER_BINARY, "--migrate_only", "--database_url=" + url}));
  }
  for (pid_t pid : replicas) EXPECT_EQ(WaitExit(pid, absl::Seconds(30)), 0);
  pqxx::connection conn(url);
  pqxx::nontransaction txn(conn);
  EXPECT_EQ(txn.exec1("SELECT count(*) FROM card_schema_migrations")[0].as<int>(),
            txn.exec1("SELECT max(version) FROM card_schema_migrations")[0].as<int>());
  EXPECT_EQ(txn.exec1("SELECT count(*) FROM pg_proc WHERE proname = 'card_create'")[0]
                .as<int>(),
            1);
}

TEST(ServerProcess, MigrateOnlyWithoutDatabaseFails) {
  pid_t pid = Spawn({CARD_SERVER_BINARY, "--migrate_only", "--database_url="});
  EXPECT_EQ(WaitExit(pid, absl::Seconds(10)), 1);
}

TEST(ServerProcess, SigtermDrainsAndExitsZero) {
  std::string url = PostgresEnvironment::Get().CreateDatabase();
  std::string address = absl::StrCat("127.0.0.1:", UnusedLoopbackPort());
  pid_t pid = Spawn({CARD_SERVER_BINARY, "--listen=" + address, "--database_url=" + url,
                     "--db_pool_size=2", "--shutdown_grace=5s"});
  ASSERT_LT(TimeUntilHealth(address, kServing, absl::Seconds(20)), absl::Seconds(20))
      << "server never became SERVING";

  // A create in flight when SIGTERM arrives still completes.
  pqxx::connection blocker(url);
  std::unique_ptr<pqxx::work> lock = HoldUserLock(blocker, "draining");
  auto stub = v1::CardService::NewStub(
      grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
  v1::CreateCardRequest request;
  request.set_user_id("draining");
  request.mutable_card()->set_title("In flight");
  v1::Card card;
  grpc::Status in_flight;
  std::thread caller([&] {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    in_flight = stub->CreateCard(&context, request, &card);
  });
  absl::SleepFor(absl::Milliseconds(300));  // the call is waiting on the lock
  ASSERT_EQ(kill(pid, SIGTERM), 0);
  absl::SleepFor(absl::Milliseconds(300));
  lock->commit();
  caller.join();
  EXPECT_TRUE(in_flight.ok()) << in_flight.error_message();
  EXPECT_EQ(WaitExit(pid, absl::Seconds(10)), 0);
}

TEST(ServerProcess, HelpListsTheOperatorFlags) {
  std::string help =
      RunCommand(absl::StrCat(CARD_SERVER_BINARY, " --helpfull 2>&1; true"));
  for (const char* flag :
       {"--listen", "--database_url", "--db_pool_size", "--migrate_only",
        "--shutdown_grace", "--statement_timeout", "--max_request_time"}) {
    EXPECT_NE(help.find(flag), std::string::npos) << flag;
  }
}

}  // namespace
}  // namespace card::testing
