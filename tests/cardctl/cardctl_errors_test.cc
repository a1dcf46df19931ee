// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
// cardctl's failures: each class of error gets its exit code, errors print
// "CODE_NAME: message" and the fields the server names, and usage errors send
// nothing.
#include <unistd.h>

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "tests/cardctl/cardctl_fixture.h"
#include "tests/support/pg_environment.h"
#include "tests/support/ports.h"

namespace card::testing {
namespace {

constexpr char kUnknownId[] = "00000000-0000-0000-0000-000000000000";

// Expects exit code `code`, nothing on stdout, and stderr starting "<name>: ".
void ExpectFailure(const CardctlRun& run, int code, const std::string& name) {
  EXPECT_EQ(run.exit_code, code) << run.err;
  EXPECT_EQ(run.out, "");
  EXPECT_TRUE(absl::StartsWith(run.err, name + ": ")) << run.err;
}

using CardctlErrorsTest = CardctlTest;

TEST_F(CardctlErrorsTest, InvalidInputExits3AndNamesTheField) {
  CardctlRun run = Cardctl({"create", "--user_id=alice", "--title="});
  ExpectFailure(run, 3, "INVALID_ARGUMENT");
  std::vector<std::string> lines = Lines(run.err);
  ASSERT_EQ(lines.size(), 2u) << run.err;
  EXPECT_TRUE(absl::StartsWith(lines[0], "INVALID_ARGUMENT: card.title")) << lines[0];
  EXPECT_TRUE(absl::StartsWith(lines[1], "  card.title: ")) << lines[1];
  EXPECT_GT(lines[1].size(), std::string("  card.title: ").size());  // with a description

  struct Case {
    std::vector<std::string> args;
    std::string field;
  };
  v1::Card card = CreateCard("alice", "Card");
  const std::vector<Case> cases = {
      {{"create", "--user_id=alice", "--title=" + std::string(101, 't')}, "card.title"},
      {{"create", "--user_id=alice", "--title=T",
        "--description=" + std::string(101, 'd')},
       "card.description"},
      {{"get", "--user_id=alice", "--card_id=not-a-uuid"}, "card_id"},
      {{"update", "--user_id=alice", "--card_id=" + card.id(), "--title="}, "card.title"},
      {{"update", "--user_id=alice", "--card_id=" + card.id(), "--visibility="},
       "card.visibility"},
      {{"delete", "--user_id=alice", "--card_id=" + card.id(), "--etag=garbage"}, "etag"},
      {{"shared", "--slug="}, "slug"},
      {{"list", "--user_id="}, "user_id"},
      {{"links", "create", "--user_id=alice", "--platform=github", "--username=octo",
        "--url=ftp://example.com"},
       "link.url"},
      {{"links", "list", "--user_id=alice", "--page_size=-1"}, "page_size"},
  };
  for (const Case& c : cases) {
    run = Cardctl(c.args);
    SCOPED_TRACE(c.args[0] + " " + c.args.back());
    ExpectFailure(run, 3, "INVALID_ARGUMENT");
    lines = Lines(run.err);
    ASSERT_GE(lines.size(), 2u) << run.err;
    EXPECT_TRUE(absl::StartsWith(lines[0], "INVALID_ARGUMENT: " + c.field)) << run.err;
    EXPECT_TRUE(absl::StartsWith(lines[1], "  " + c.field + ": ")) << run.err;
  }
  EXPECT_EQ(CardRows("alice"), 1);
  EXPECT_EQ(Query("SELECT title FROM cards")[0][0].as<std::string>(), "Card");
}

TEST_F(CardctlErrorsTest, NotFoundExits4) {
  v1::Card card = CreateCard("alice", "Hidden", {"--visibility=private"});
  const std::vector<std::vector<std::string>> cases = {
      {"get", "--user_id=alice", std::string("--card_id=") + kUnknownId},
      {"get", "--user_id=mallory", "--card_id=" + card.id()},
      {"update", "--user_id=alice", std::string("--card_id=") + kUnknownId, "--title=T"},
      {"delete", "--user_id=alice", std::string("--card_id=") + kUnknownId},
      {"set-default", "--user_id=alice", std::string("--card_id=") + kUnknownId},
      {"get-default", "--user_id=nobody"},
      {"shared", "--slug=" + card.slug()},
      {"links", "delete", "--user_id=alice", std::string("--link_id=") + kUnknownId},
  };
  for (const auto& args : cases) {
    SCOPED_TRACE(args[0] + " " + args.back());
    ExpectFailure(Cardctl(args), 4, "NOT_FOUND");
  }
}

TEST_F(CardctlErrorsTest, ConflictsAndPreconditionsExit5) {
  v1::Card only = CreateCard("alice", "Only", {"--request_id=req-1"});
  CardctlRun run = Cardctl({"delete", "--user_id=alice", "--card_id=" + only.id()});
  ExpectFailure(run, 5, "FAILED_PRECONDITION");  // the last card
  // The same request_id with other content.
  ExpectFailure(
      Cardctl({"create", "--user_id=alice", "--title=Other", "--request_id=req-1"}), 5,
      "FAILED_PRECONDITION");
  // A stale etag.
  ASSERT_EQ(
      Cardctl({"update", "--user_id=alice", "--card_id=" + only.id(), "--title=New"})
          .exit_code,
      0);
  ExpectFailure(Cardctl({"update", "--user_id=alice", "--card_id=" + only.id(),
                         "--title=Newer", "--etag=" + only.etag()}),
                5, "ABORTED");
  EXPECT_EQ(Query("SELECT title FROM cards")[0][0].as<std::string>(), "New");
}

// Refused like an unknown link id (invalid input), so that the answer does
// not tell which link ids exist.
TEST_F(CardctlErrorsTest, AnotherUsersLinkExits3) {
  v1::PlatformLink bobs = CreateLink("bob", "bob");
  CardctlRun run =
      Cardctl({"create", "--user_id=alice", "--title=Mine", "--link_ids=" + bobs.id()});
  ExpectFailure(run, 3, "INVALID_ARGUMENT");
  EXPECT_TRUE(absl::StrContains(run.err, "link_ids[0]")) << run.err;
  v1::Card card = CreateCard("alice", "Mine");
  ExpectFailure(Cardctl({"update", "--user_id=alice", "--card_id=" + card.id(),
                         "--link_ids=" + bobs.id()}),
                3, "INVALID_ARGUMENT");
  EXPECT_EQ(Query("SELECT count(*) FROM card_links")[0][0].as<int>(), 0);
}

TEST_F(CardctlErrorsTest, UnreachableServerExits7WithinTheTimeout) {
  const std::string target = absl::StrCat("--target=127.0.0.1:", UnusedLoopbackPort());
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"get", "--user_id=a", "--card_id=b"},
           {"update", "--user_id=a", "--card_id=b", "--qr"},
           {"health"}}) {
    absl::Time start = absl::Now();
    std::vector<std::string> argv = {target, "--timeout=700ms"};
    argv.insert(argv.end(), args.begin(), args.end());
    CardctlRun run = RunCardctl(argv);
    EXPECT_EQ(run.exit_code, 7) << run.err;
    EXPECT_TRUE(absl::StartsWith(run.err, "UNAVAILABLE: ") ||
                absl::StartsWith(run.err, "DEADLINE_EXCEEDED: "))
        << run.err;
    EXPECT_LT(absl::Now() - start, absl::Seconds(5)) << args[0];
  }
  // Nobody listening, with --tls and no client certificate: no hint about one.
  CardctlRun down = RunCardctl({target, "--tls", "--timeout=700ms", "health"});
  EXPECT_EQ(down.exit_code, 7) << down.err;
  EXPECT_FALSE(absl::StrContains(down.err, "hint:")) << down.err;
  // A create that may have happened says how to retry it safely.
  CardctlRun run = RunCardctl({target, "--timeout=300ms", "create", "--user_id=a",
                               "--title=T", "--request_id=r-7"});
  EXPECT_EQ(run.exit_code, 7) << run.err;
  EXPECT_TRUE(absl::StrContains(run.err, "--request_id=r-7")) << run.err;
}

TEST_F(CardctlErrorsTest, DatabaseDownIsNotServingAndUnavailable) {
  if (!PostgresEnvironment::Get().owns_cluster())
    GTEST_SKIP() << "needs the throwaway cluster";
  v1::Card card = CreateCard("alice", "Card");
  sql_.reset();
  PostgresEnvironment::Get().StopServer();
  CardctlRun run;
  absl::Time give_up = absl::Now() + absl::Seconds(10);
  do {
    run = Cardctl({"health"});
  } while (run.exit_code == 0 && absl::Now() < give_up);
  EXPECT_EQ(run.exit_code, 7) << run.out << run.err;
  EXPECT_EQ(run.out, "NOT_SERVING\n");
  run = Cardctl({"--timeout=5s", "get", "--user_id=alice", "--card_id=" + card.id()});
  ExpectFailure(run, 7, "UNAVAILABLE");

  PostgresEnvironment::Get().StartServer();
  give_up = absl::Now() + absl::Seconds(20);
  do {
    run = Cardctl({"health"});
  } while (run.exit_code != 0 && absl::Now() < give_up);
  EXPECT_EQ(run.exit_code, 0) << run.out << run.err;
  EXPECT_EQ(run.out, "SERVING\n");
  sql_ = std::make_unique<pqxx::connection>(database_url_);
}

TEST_F(CardctlErrorsTest, UsageErrorsExit2AndSendNothing) {
  const std::vector<std::vector<std::string>> cases = {
      {},
      {"frobnicate"},
      {"links"},
      {"links", "rename", "--user_id=a"},
      {"get", "--user_id=alice", "--card_id=x", "extra"},
      {"--bogus", "health"},
      {"create", "--user_id=alice"},                              // no --title
      {"create", "--user_id=alice", "--title=T", "--card_id=x"},  // not create's
      {"create", "--user_id=alice", "--title=T", "--visibility=secret"},
      {"create", "--user_id=alice", "--title=T", "--qr=maybe"},
      {"create", "--user_id=alice", "--title"},      // no value
      {"update", "--user_id=alice", "--card_id=x"},  // nothing to update
      {"links", "create", "--user_id=alice", "--platform=p", "--username=u",
       "--url=https://x", "--display_order=first"},
      {"--output=xml", "list", "--user_id=alice"},
      {"--timeout=0s", "list", "--user_id=alice"},
      {"--timeout=soon", "list", "--user_id=alice"},
      {"--tls", "--tls_ca_file=/nonexistent/ca.pem", "list", "--user_id=alice"},
      {"--flagfile=/dev/null", "list", "--user_id=alice"},
  };
  for (const auto& args : cases) {
    CardctlRun run = Cardctl(args);
    SCOPED_TRACE(args.empty() ? "(none)" : args.back());
    EXPECT_EQ(run.exit_code, 2) << run.err;
    EXPECT_EQ(run.out, "");
    EXPECT_TRUE(absl::StartsWith(run.err, "cardctl: ")) << run.err;
    EXPECT_TRUE(absl::StrContains(run.err, "cardctl --help")) << run.err;
  }
  EXPECT_EQ(Query("SELECT count(*) FROM cards")[0][0].as<int>(), 0);
}

}  // namespace
}  // namespace card::testing
