// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
// The card-server binary as operators run it: flags, --migrate_only from
// several replicas at once, SIGTERM draining and exit code 0; SIGHUP, SIGUSR1,
// SIGUSR2 and a stderr pipe without a reader do not end it (issue 19).
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <thread>

#include "absl/strings/match.h"
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

// Kills the server if a test ends before stopping it: an orphan would keep
// the test's stdout open, and ctest waits for it.
class KillAtExit {
 public:
  explicit KillAtExit(pid_t pid) : pid_(pid) {}
  ~KillAtExit() {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, &status, 0);
    }
  }

 private:
  pid_t pid_;
};

bool Running(pid_t pid) {
  int status = 0;
  return waitpid(pid, &status, WNOHANG) == 0;
}

std::string ReadWholeFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Whether `path` contains `text` within `timeout`.
bool WaitForText(const std::string& path, const std::string& text,
                 absl::Duration timeout) {
  absl::Time give_up = absl::Now() + timeout;
  while (!absl::StrContains(ReadWholeFile(path), text)) {
    if (absl::Now() > give_up) return false;
    absl::SleepFor(absl::Milliseconds(20));
  }
  return true;
}

grpc::Status CreateOne(v1::CardService::Stub& stub, const std::string& user) {
  v1::CreateCardRequest request;
  request.set_user_id(user);
  request.mutable_card()->set_title("Still serving");
  v1::Card card;
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
  return stub.CreateCard(&context, request, &card);
}

TEST(ServerProcess, HupAndUsrSignalsAreLoggedAndIgnored) {
  std::string url = PostgresEnvironment::Get().CreateDatabase();
  std::string address = absl::StrCat("127.0.0.1:", UnusedLoopbackPort());
  std::string log_path =
      absl::StrCat(::testing::TempDir(), "/signals-", getpid(), ".log");
  int log_fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  ASSERT_GE(log_fd, 0);
  pid_t pid = Spawn({CARD_SERVER_BINARY, "--listen=" + address, "--database_url=" + url,
                     "--db_pool_size=2"},
                    log_fd);
  KillAtExit kill_at_exit(pid);
  close(log_fd);
  ASSERT_LT(TimeUntilHealth(address, kServing, absl::Seconds(20)), absl::Seconds(20))
      << "server never became SERVING";
  // Raised to the hard limit at start-up, logged once.
  EXPECT_TRUE(absl::StrContains(ReadWholeFile(log_path), "open files limit: "));

  auto stub = v1::CardService::NewStub(
      grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
  const std::pair<int, const char*> signals[] = {
      {SIGHUP, "SIGHUP: certificates and the policy are re-read"},
      {SIGUSR1, "SIGUSR1 ignored"},
      {SIGUSR2, "SIGUSR2 ignored"}};
  for (const auto& [signal, line] : signals) {
    ASSERT_EQ(kill(pid, signal), 0);
    EXPECT_TRUE(WaitForText(log_path, line, absl::Seconds(5))) << line;
    grpc::Status status = CreateOne(*stub, "signalled");
    EXPECT_TRUE(status.ok()) << line << ": " << status.error_message();
    ASSERT_TRUE(Running(pid)) << "the server died of " << strsignal(signal);
  }
  ASSERT_EQ(kill(pid, SIGTERM), 0);
  EXPECT_EQ(WaitExit(pid, absl::Seconds(10)), 0);
  unlink(log_path.c_str());
}

TEST(ServerProcess, StderrPipeWithoutReaderNeverEndsTheServer) {
  std::string url = PostgresEnvironment::Get().CreateDatabase();
  std::string address = absl::StrCat("127.0.0.1:", UnusedLoopbackPort());
  int metrics_port = UnusedLoopbackPort();
  int pipe_fds[2];
  ASSERT_EQ(pipe2(pipe_fds, O_CLOEXEC), 0);
  pid_t pid = Spawn({CARD_SERVER_BINARY, "--listen=" + address, "--database_url=" + url,
                     "--db_pool_size=2", "--access_log",
                     absl::StrCat("--metrics_listen=127.0.0.1:", metrics_port)},
                    pipe_fds[1]);
  KillAtExit kill_at_exit(pid);
  close(pipe_fds[1]);
  ASSERT_LT(TimeUntilHealth(address, kServing, absl::Seconds(20)), absl::Seconds(20))
      << "server never became SERVING";
  close(pipe_fds[0]);  // the reader goes away: every log write now gets EPIPE

  auto stub = v1::CardService::NewStub(
      grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
  int ok = 0;
  for (int i = 0; i < 20; ++i) {
    grpc::Status status = CreateOne(*stub, "piped");
    if (status.ok()) ++ok;
  }
  EXPECT_EQ(ok, 20);
  ASSERT_TRUE(Running(pid)) << "the server died (SIGPIPE?)";
  // Each call's access-log line was dropped and counted.
  std::string scrape = RunCommand(
      absl::StrCat("curl -s --max-time 5 http://127.0.0.1:", metrics_port, "/metrics"));
  size_t at = scrape.find("\ncard_server_log_lines_dropped_total ");
  ASSERT_NE(at, std::string::npos) << scrape;
  EXPECT_GE(std::stod(scrape.substr(at + 37)), 20.0) << scrape.substr(at, 60);
  ASSERT_EQ(kill(pid, SIGTERM), 0);
  EXPECT_EQ(WaitExit(pid, absl::Seconds(10)), 0);
}

// A URL libpq can never connect with stops start-up at once, saying why in
// libpq's words, never printing the password (issue 22: a port that is not a
// number was retried for the whole --startup_timeout). A database that is
// only down is still waited for.
TEST(ServerProcess, AnInvalidDatabaseUrlStopsStartUpAtOnce) {
  const std::pair<std::string, std::string> cases[] = {
      {"postgresql://u:S3cretPW@127.0.0.1:notaport/db",
       "invalid integer value \"notaport\" for connection option \"port\""},
      {"postgresql://u:S3cretPW@127.0.0.1/db?no_such_option=1",
       "invalid URI query parameter: \"no_such_option\""},
  };
  for (const auto& [url, reason] : cases) {
    std::string log_path = absl::StrCat(::testing::TempDir(), "/url-", getpid(), ".log");
    int log_fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    ASSERT_GE(log_fd, 0);
    const absl::Time start = absl::Now();
    pid_t pid = Spawn({CARD_SERVER_BINARY, "--listen=127.0.0.1:0",
                       "--database_url=" + url, "--startup_timeout=30s"},
                      log_fd);
    close(log_fd);
    const int code = WaitExit(pid, absl::Seconds(10));
    const absl::Duration took = absl::Now() - start;
    const std::string log = ReadWholeFile(log_path);
    EXPECT_NE(code, 0) << url;
    EXPECT_NE(code, -1) << url << ": still running after 10 s";
    EXPECT_LT(took, absl::Seconds(3)) << url;
    EXPECT_TRUE(absl::StrContains(log, reason)) << log;
    EXPECT_FALSE(absl::StrContains(log, "S3cret")) << log;
    EXPECT_FALSE(absl::StrContains(log, "retrying")) << log;
    unlink(log_path.c_str());
  }

  // Nobody listening: retried until --startup_timeout, as before.
  std::string log_path = absl::StrCat(::testing::TempDir(), "/down-", getpid(), ".log");
  int log_fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  ASSERT_GE(log_fd, 0);
  const absl::Time start = absl::Now();
  pid_t pid = Spawn({CARD_SERVER_BINARY, "--listen=127.0.0.1:0",
                     absl::StrCat("--database_url=postgresql://u:S3cretPW@127.0.0.1:",
                                  UnusedLoopbackPort(), "/db"),
                     "--startup_timeout=3s"},
                    log_fd);
  KillAtExit kill_at_exit(pid);
  close(log_fd);
  EXPECT_NE(WaitExit(pid, absl::Seconds(20)), 0);
  EXPECT_GE(absl::Now() - start, absl::Seconds(3));
  const std::string log = ReadWholeFile(log_path);
  EXPECT_TRUE(absl::StrContains(log, "retrying until --startup_timeout")) << log;
  EXPECT_FALSE(absl::StrContains(log, "S3cret")) << log;
  unlink(log_path.c_str());
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
