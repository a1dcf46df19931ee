// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
// The database changed under a running server: a function dropped or renamed
// by hand (schema drift), or the database switched to read-only (as a demoted
// primary is). Health follows, a restart repairs the drift, and start-up on a
// read-only database names the reason. Probes from issue 19: before, health
// stayed SERVING in both cases, a restart left card_create_many missing, and
// start-up said "database unavailable; retry".
#include <iostream>
#include <memory>
#include <pqxx/pqxx>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "devcard/card/v1/card_service.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "server/app/card_server.h"
#include "server/storage/database_url.h"
#include "server/storage/migrations.h"
#include "tests/support/health.h"
#include "tests/support/pg_environment.h"

namespace card::testing {
namespace {

namespace v1 = devcard::card::v1;

app::ServerConfig Config(const std::string& url) {
  app::ServerConfig options;
  options.transport.listen = "127.0.0.1:0";
  options.database.url = url;
  options.database.repository.pool_size = options.scheduler.workers = 2;
  options.migration.startup_timeout = absl::Seconds(2);
  return options;
}

std::unique_ptr<app::CardServer> StartServer(const std::string& url) {
  absl::StatusOr<std::unique_ptr<app::CardServer>> server =
      app::CardServer::Start(Config(url));
  EXPECT_TRUE(server.ok()) << server.status();
  return server.ok() ? *std::move(server) : nullptr;
}

std::string Target(const app::CardServer& server) {
  return absl::StrCat("127.0.0.1:", server.port());
}

grpc::Status Create(const app::CardServer& server, const std::string& title) {
  auto stub = v1::CardService::NewStub(
      grpc::CreateChannel(Target(server), grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
  v1::CreateCardRequest request;
  request.set_user_id("alice");
  request.mutable_card()->set_title(title);
  v1::Card card;
  return stub->CreateCard(&context, request, &card);
}

std::string One(pqxx::connection& conn, const std::string& sql) {
  pqxx::nontransaction txn(conn);
  return txn.exec1(sql)[0].c_str();
}

void Exec(pqxx::connection& conn, const std::string& sql) {
  pqxx::nontransaction txn(conn);
  txn.exec0(sql);
}

storage::MigrationResult Migrate(const std::string& url) {
  storage::MigrationResult result;
  absl::StatusOr<std::string> connection = storage::ConnectionString(url);
  EXPECT_TRUE(connection.ok()) << connection.status();
  absl::Status status = storage::ApplyMigrations(*connection, &result);
  EXPECT_TRUE(status.ok()) << status;
  return result;
}

constexpr char kCreateManyCount[] =
    "SELECT count(*) FROM pg_proc WHERE proname = 'card_create_many'";

// Probe: card_create_many renamed under load. Before: INTERNAL for every
// create, health SERVING, and still missing after a restart.
TEST(SchemaDrift, AMissingFunctionTurnsHealthNotServingAndARestartPutsItBack) {
  std::string url = PostgresEnvironment::Get().CreateDatabase();
  std::unique_ptr<app::CardServer> server = StartServer(url);
  ASSERT_NE(server, nullptr);
  ASSERT_TRUE(Create(*server, "Before").ok());
  ASSERT_LE(TimeUntilHealth(Target(*server), kServing, absl::Seconds(5)),
            absl::Seconds(5));

  pqxx::connection sql(url);
  Exec(sql, "ALTER FUNCTION card_create_many RENAME TO card_create_many_botched");
  absl::Duration to_not_serving =
      TimeUntilHealth(Target(*server), kNotServing, absl::Seconds(10));
  std::cout << "card_create_many renamed: health NOT_SERVING after " << to_not_serving
            << "\n";
  EXPECT_LE(to_not_serving, absl::Seconds(5));
  EXPECT_FALSE(Create(*server, "While missing").ok());
  server->Shutdown(absl::Seconds(1));
  server.reset();

  server = StartServer(url);
  ASSERT_NE(server, nullptr);
  EXPECT_EQ(One(sql, kCreateManyCount), "1");
  EXPECT_TRUE(Create(*server, "After the restart").ok());
  EXPECT_LE(TimeUntilHealth(Target(*server), kServing, absl::Seconds(5)),
            absl::Seconds(5));
  server->Shutdown(absl::Seconds(1));
}

// Start-up compares the catalog with what it last applied: a dropped function,
// and one replaced by hand with another body, are re-created; with nothing
// drifted, nothing is re-applied.
TEST(SchemaDrift, StartUpRepairsWhatDriftedAndOnlyThat) {
  std::string url = PostgresEnvironment::Get().CreateDatabase();
  Migrate(url);
  storage::MigrationResult unchanged = Migrate(url);
  EXPECT_FALSE(unchanged.definitions_applied);
  EXPECT_EQ(unchanged.drift_repaired, 0);

  pqxx::connection sql(url);
  const std::string slug_source =
      "SELECT prosrc FROM pg_proc WHERE proname = 'card_slug_suffix'";
  const std::string shipped_slug = One(sql, slug_source);
  Exec(sql, "DROP FUNCTION card_create_many");
  Exec(sql,
       "CREATE OR REPLACE FUNCTION card_slug_suffix() RETURNS text "
       "LANGUAGE sql AS $$ SELECT 'x' $$");
  storage::MigrationResult repaired = Migrate(url);
  EXPECT_TRUE(repaired.definitions_applied);
  EXPECT_EQ(repaired.drift_repaired, 2);
  EXPECT_EQ(One(sql, kCreateManyCount), "1");
  EXPECT_EQ(One(sql, slug_source), shipped_slug);

  storage::MigrationResult again = Migrate(url);
  EXPECT_FALSE(again.definitions_applied);
  EXPECT_EQ(again.drift_repaired, 0);
}

class ReadOnlyDatabase : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!PostgresEnvironment::Get().owns_cluster())
      GTEST_SKIP() << "needs its own cluster (ALTER SYSTEM)";
  }
  void TearDown() override {
    if (read_only_) SetReadOnly(false);
  }
  // Cluster-wide, for open sessions too: what a client sees of a demoted
  // primary without its connections breaking.
  void SetReadOnly(bool on) {
    pqxx::connection admin(PostgresEnvironment::Get().admin_url());
    Exec(admin, "SET default_transaction_read_only = off");
    Exec(admin, on ? "ALTER SYSTEM SET default_transaction_read_only = on"
                   : "ALTER SYSTEM RESET default_transaction_read_only");
    pqxx::nontransaction txn(admin);
    txn.exec1("SELECT pg_reload_conf()");
    read_only_ = on;
  }
  bool read_only_ = false;
};

// Probe: the database switched to read-only. Before: health stayed SERVING,
// and a restart said "database unavailable; retry".
TEST_F(ReadOnlyDatabase, HealthTurnsNotServingAndRecoversWithoutARestart) {
  std::string url = PostgresEnvironment::Get().CreateDatabase();
  std::unique_ptr<app::CardServer> server = StartServer(url);
  ASSERT_NE(server, nullptr);
  ASSERT_TRUE(Create(*server, "Before").ok());

  pqxx::connection sql(url);
  const std::string pool_pids =
      "SELECT coalesce(string_agg(pid::text, ',' ORDER BY pid), '') "
      "FROM pg_stat_activity WHERE datname = current_database() "
      "AND application_name = 'card-server'";
  const std::string old_pids = One(sql, pool_pids);
  ASSERT_NE(old_pids, "");

  SetReadOnly(true);
  absl::Duration to_not_serving =
      TimeUntilHealth(Target(*server), kNotServing, absl::Seconds(10));
  std::cout << "read-only: health NOT_SERVING after " << to_not_serving << "\n";
  EXPECT_LE(to_not_serving, absl::Seconds(5));
  // The pool reconnects without waiting for a statement to be refused: none
  // of its connections from before is left.
  bool reconnected = false;
  for (absl::Time give_up = absl::Now() + absl::Seconds(5);
       !reconnected && absl::Now() < give_up; absl::SleepFor(absl::Milliseconds(100))) {
    reconnected = true;
    for (absl::string_view pid : absl::StrSplit(old_pids, ',')) {
      if (absl::StrContains(absl::StrCat(",", One(sql, pool_pids), ","),
                            absl::StrCat(",", pid, ","))) {
        reconnected = false;
      }
    }
  }
  EXPECT_TRUE(reconnected) << "still open from before: " << One(sql, pool_pids)
                           << " (before: " << old_pids << ")";
  grpc::Status refused = Create(*server, "While read-only");
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::UNAVAILABLE)
      << refused.error_message();

  // A server started now fails, naming the reason, once --startup_timeout
  // (2 s here) has passed.
  absl::StatusOr<std::unique_ptr<app::CardServer>> second =
      app::CardServer::Start(Config(url));
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.status().message().find(
                "database is read-only (transaction_read_only = on)"),
            std::string::npos)
      << second.status();
  // The binary, as operators run it: exits 1 with the reason.
  const std::string output = RunCommand(absl::StrCat(
      CARD_SERVER_BINARY, " --listen=127.0.0.1:0 --startup_timeout=1s --database_url='",
      url, "' 2>&1; echo \"exit $?\""));
  EXPECT_NE(output.find("start-up failed: UNAVAILABLE: database is read-only "
                        "(transaction_read_only = on)"),
            std::string::npos)
      << output;
  EXPECT_NE(output.find("exit 1"), std::string::npos) << output;

  SetReadOnly(false);
  absl::Duration to_serving =
      TimeUntilHealth(Target(*server), kServing, absl::Seconds(10));
  std::cout << "writable again: health SERVING after " << to_serving << "\n";
  EXPECT_LE(to_serving, absl::Seconds(5));
  grpc::Status created = Create(*server, "After");
  EXPECT_TRUE(created.ok()) << created.error_message();
  server->Shutdown(absl::Seconds(1));
}

}  // namespace
}  // namespace card::testing
