// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
// --db_statement_mode: what the unnamed mode (for transaction-mode poolers
// such as PgBouncer 1.18) promises besides serving the API, which ctest checks
// by running whole suites again in that mode (the *_unnamed entries). The
// mode sets nothing on the server session, so the READ COMMITTED the locking
// rests on must come from the database role, and a connection without it is
// refused. scripts/pgbouncer-test.sh runs the mode through a real PgBouncer.
#include <string>

#include "tests/support/server_fixture.h"

namespace card::testing {
namespace {

class UnnamedModeTest : public CardServerTest {
 protected:
  void Configure(app::ServerConfig& options) override {
    options.database.repository.statement_mode = storage::StatementMode::kUnnamed;
  }
};

TEST_F(UnnamedModeTest, ServesCallsWithTheApplicationNameFromTheStartupPacket) {
  v1::Card card;
  ASSERT_TRUE(Create("unnamed-user", "Card", &card).ok());
  v1::Card read;
  ASSERT_TRUE(Get("unnamed-user", card.id(), &read).ok());
  EXPECT_EQ(read.etag(), card.etag());
  // No set_config ran on these sessions: the name came with the connection.
  pqxx::result names = Query(
      "SELECT DISTINCT application_name FROM pg_stat_activity "
      "WHERE datname = current_database() AND application_name LIKE 'card-server%' "
      "ORDER BY 1");
  ASSERT_EQ(names.size(), 2u);
  EXPECT_EQ(names[0][0].as<std::string>(), "card-server");
  EXPECT_EQ(names[1][0].as<std::string>(), "card-server-health");
}

class UnnamedModeOnRepeatableReadTest : public UnnamedModeTest {
 protected:
  void Configure(app::ServerConfig& options) override {
    UnnamedModeTest::Configure(options);
    pqxx::connection admin(database_url_);
    pqxx::nontransaction txn(admin);
    txn.exec0(
        "DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET default_transaction_isolation "
        "TO ''repeatable read''', current_database()); END $$");
  }
};

// Under REPEATABLE READ the snapshot would predate the user's lock (one user,
// two defaults: README.md). Prepared mode sets READ COMMITTED on the session;
// unnamed mode cannot, so it must refuse rather than run.
TEST_F(UnnamedModeOnRepeatableReadTest, RefusesToRunAndWritesNothing) {
  v1::Card card;
  grpc::Status status = Create("repeatable-read-user", "Card", &card);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << status.error_message();
  EXPECT_EQ(Query("SELECT count(*) FROM cards")[0][0].as<int>(), 0);
}

// The mode is typed in ServerConfig; card-server's flag parser refuses other
// names (tests/server_process_pgtest.cc runs the binary).
TEST(StatementModeFlag, AnUnknownModeIsRefused) {
  absl::StatusOr<storage::StatementMode> mode = storage::ParseStatementMode("named");
  ASSERT_FALSE(mode.ok());
  EXPECT_EQ(mode.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(mode.status().message().find("--db_statement_mode"), std::string::npos);
}

}  // namespace
}  // namespace card::testing
