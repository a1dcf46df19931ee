// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
// Health notices a database that can no longer run the service's PL/pgSQL
// (issue 22): a PostgreSQL package upgrade left plpgsql.so unloadable under a
// running server; every create answered INTERNAL while health stayed SERVING,
// because the probe ran plain SQL only. The probe now calls
// card_health_check(), one of the service's own PL/pgSQL functions. Here the
// card-server binary runs as operators run it (its log in a file), and the
// function is broken three ways — replaced by one that raises, dropped, and
// PL/pgSQL made unloadable — and repaired: NOT_SERVING within a few probe
// intervals (1 s each) with the SQLSTATE in the log, SERVING again after.
// With the previous probe (plain SQL, no PL/pgSQL) the first and third fail.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <functional>
#include <iostream>
#include <memory>
#include <pqxx/pqxx>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "devcard/card/v1/card_service.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "tests/support/health.h"
#include "tests/support/pg_environment.h"
#include "tests/support/ports.h"
#include "tests/support/processes.h"

namespace card::testing {
namespace {

namespace v1 = devcard::card::v1;

// Health turns within this of a change: 1 s probe interval, one probe that may
// still be in flight, the test's 100 ms polling, a busy machine.
constexpr absl::Duration kHealthTurns = absl::Seconds(5);

std::string ReadWholeFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

void Exec(pqxx::connection& conn, const std::string& sql) {
  pqxx::nontransaction txn(conn);
  txn.exec(sql);
}

grpc::StatusCode Create(const std::string& address) {
  auto stub = v1::CardService::NewStub(
      grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
  v1::CreateCardRequest request;
  request.set_user_id("alice");
  request.mutable_card()->set_title("Probe");
  v1::Card card;
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
  return stub->CreateCard(&context, request, &card).error_code();
}

class HealthProbe : public ::testing::Test {
 protected:
  void SetUp() override {
    url_ = PostgresEnvironment::Get().CreateDatabase();
    address_ = absl::StrCat("127.0.0.1:", UnusedLoopbackPort());
    log_path_ = absl::StrCat(::testing::TempDir(), "/health-probe-", getpid(), ".log");
    int log_fd = open(log_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    ASSERT_GE(log_fd, 0);
    pid_ = Spawn({CARD_SERVER_BINARY, "--listen=" + address_, "--database_url=" + url_,
                  "--db_pool_size=2"},
                 log_fd);
    close(log_fd);
    ASSERT_LT(TimeUntilHealth(address_, kServing, absl::Seconds(20)), absl::Seconds(20))
        << "server never became SERVING:\n"
        << ReadWholeFile(log_path_);
    sql_ = std::make_unique<pqxx::connection>(url_);
  }

  void TearDown() override {
    sql_.reset();
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      if (WaitExit(pid_, absl::Seconds(10)) == -1) ADD_FAILURE() << "no exit on SIGTERM";
    }
    unlink(log_path_.c_str());
  }

  // Breaks the database with `break_sql`; health must turn NOT_SERVING, the
  // log must name `sqlstate`; `repair_sql` must bring SERVING back.
  void BreakAndRepair(const std::string& what, const std::string& break_sql,
                      const std::string& sqlstate, const std::string& repair_sql) {
    const size_t log_before = ReadWholeFile(log_path_).size();
    Exec(*sql_, break_sql);
    const absl::Duration to_not_serving =
        TimeUntilHealth(address_, kNotServing, absl::Seconds(10));
    std::cout << what << ": NOT_SERVING after " << to_not_serving << "\n";
    EXPECT_LE(to_not_serving, kHealthTurns) << what;
    const std::string log = ReadWholeFile(log_path_).substr(log_before);
    EXPECT_TRUE(absl::StrContains(log, absl::StrCat("SQLSTATE ", sqlstate)))
        << what << ", the log since:\n"
        << log;
    // Once per episode, however many probes failed.
    std::vector<absl::string_view> episodes = absl::StrSplit(log, "health NOT_SERVING");
    EXPECT_LE(episodes.size(), 2u) << log;
    on_broken_();
    Exec(*sql_, repair_sql);
    const absl::Duration to_serving =
        TimeUntilHealth(address_, kServing, absl::Seconds(10));
    std::cout << what << " repaired: SERVING after " << to_serving << "\n";
    EXPECT_LE(to_serving, kHealthTurns) << what;
    EXPECT_EQ(Create(address_), grpc::StatusCode::OK) << what << " repaired";
  }

  std::string ShippedDefinition() {
    return ReadWholeFile(absl::StrCat(
        CARD_SOURCE_DIR, "/server/storage/definitions/18_card_health_check.sql"));
  }

  std::string url_, address_, log_path_;
  pid_t pid_ = -1;
  std::unique_ptr<pqxx::connection> sql_;
  std::function<void()> on_broken_ = [] {};
};

TEST_F(HealthProbe, FunctionThatRaisesTurnsHealthNotServing) {
  BreakAndRepair("card_health_check raising",
                 "CREATE OR REPLACE FUNCTION card_health_check(p_objects text[]) "
                 "RETURNS TABLE (read_only boolean, in_recovery boolean, missing text) "
                 "LANGUAGE plpgsql STABLE AS $$ BEGIN "
                 "RAISE EXCEPTION 'broken on purpose'; END $$",
                 "P0001", ShippedDefinition());
}

TEST_F(HealthProbe, DroppedFunctionTurnsHealthNotServing) {
  BreakAndRepair("card_health_check dropped", "DROP FUNCTION card_health_check", "42883",
                 ShippedDefinition());
}

// What the upgrade did: PL/pgSQL's handler cannot be loaded. Pointing the
// handler at a library that does not exist (in this test's database only:
// pg_proc is per database) fails every PL/pgSQL call, in open sessions too
// (the backend reloads a C function whose pg_proc row changed), as a missing
// plpgsql.so does: SQLSTATE 58P01 "could not access file".
TEST_F(HealthProbe, UnloadablePlpgsqlTurnsHealthNotServing) {
  constexpr char kHandler[] =
      "UPDATE pg_proc SET probin = '$libdir/%s' WHERE proname = 'plpgsql_call_handler'";
  const std::string broken = absl::StrReplaceAll(kHandler, {{"%s", "plpgsql_gone"}});
  const std::string repaired = absl::StrReplaceAll(kHandler, {{"%s", "plpgsql"}});
  // The incident as callers saw it: creates fail while health says NOT_SERVING.
  on_broken_ = [this] {
    EXPECT_EQ(Create(address_), grpc::StatusCode::INTERNAL);
    EXPECT_EQ(HealthOf(address_), kNotServing);
  };
  BreakAndRepair("plpgsql unloadable", broken, "58P01", repaired);
}

}  // namespace
}  // namespace card::testing
