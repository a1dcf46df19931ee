// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
// Every cardctl command, run as a subprocess against a real card-server:
// table output, JSON output parsed back into the proto, and what the database
// holds afterwards.
#include <map>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "grpc/health/v1/health.pb.h"
#include "tests/cardctl/cardctl_fixture.h"

namespace card::testing {
namespace {

// The value of "key:" in a single-card table, and where it starts.
struct Field {
  std::string value;
  size_t column = std::string::npos;
};

Field FieldOf(const std::string& out, const std::string& key) {
  for (const std::string& line : Lines(out)) {
    if (absl::StartsWith(line, key + ":")) {
      size_t column = line.find_first_not_of(' ', key.size() + 1);
      if (column == std::string::npos) return {"", line.size()};
      return {line.substr(column), column};
    }
  }
  ADD_FAILURE() << "no " << key << " in\n" << out;
  return {};
}

// Checks that every value of a single-card table starts in the same column.
void ExpectAligned(const std::string& out) {
  size_t column = FieldOf(out, "id").column;
  for (const char* key : {"user_id", "title", "slug", "visibility", "qr_enabled",
                          "default", "created", "updated", "etag", "links"}) {
    EXPECT_EQ(FieldOf(out, key).column, column) << key << " in\n" << out;
  }
}

// Rows of a list table keyed by the text under each header, checking that every
// cell starts at its header's column.
std::vector<std::map<std::string, std::string>> TableRows(
    const std::string& out, const std::vector<std::string>& header) {
  std::vector<std::string> lines = Lines(out);
  std::vector<std::map<std::string, std::string>> rows;
  if (lines.empty()) {
    ADD_FAILURE() << "empty table";
    return rows;
  }
  std::vector<size_t> columns;
  for (const std::string& name : header) {
    size_t at = lines[0].find(name);
    EXPECT_NE(at, std::string::npos) << name << " missing in " << lines[0];
    columns.push_back(at);
  }
  for (size_t i = 1; i < lines.size(); ++i) {
    std::map<std::string, std::string> row;
    for (size_t c = 0; c < columns.size(); ++c) {
      size_t end = c + 1 < columns.size() ? columns[c + 1] : std::string::npos;
      std::string cell =
          lines[i].substr(std::min(columns[c], lines[i].size()),
                          end == std::string::npos ? end : end - columns[c]);
      if (c > 0) {
        EXPECT_EQ(lines[i][columns[c] - 1], ' ') << "misaligned: " << lines[i];
      }
      row[header[c]] = std::string(absl::StripAsciiWhitespace(cell));
    }
    rows.push_back(row);
  }
  return rows;
}

using CardctlCommandsTest = CardctlTest;

TEST_F(CardctlCommandsTest, CreatePrintsTheCardAsTableAndAsJson) {
  CardctlRun run = Cardctl({"create", "--user_id=alice", "--title=Alice Doe",
                            "--description=Engineer", "--visibility=unlisted", "--qr"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.err, "");
  ExpectAligned(run.out);
  EXPECT_EQ(FieldOf(run.out, "user_id").value, "alice");
  EXPECT_EQ(FieldOf(run.out, "title").value, "Alice Doe");
  EXPECT_EQ(FieldOf(run.out, "description").value, "Engineer");
  EXPECT_EQ(FieldOf(run.out, "visibility").value, "unlisted");
  EXPECT_EQ(FieldOf(run.out, "qr_enabled").value, "true");
  EXPECT_EQ(FieldOf(run.out, "default").value, "yes");
  EXPECT_EQ(FieldOf(run.out, "links").value, "0");
  std::string id = FieldOf(run.out, "id").value;
  pqxx::result rows = Query(
      "SELECT title, description, visibility, qr_enabled, is_default "
      "FROM cards WHERE id = " +
      sql_->quote(id));
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0][0].as<std::string>(), "Alice Doe");
  EXPECT_EQ(rows[0][2].as<int>(), 2);  // VISIBILITY_UNLISTED: stored by number
  EXPECT_TRUE(rows[0][3].as<bool>());
  EXPECT_TRUE(rows[0][4].as<bool>());
  // cardctl always sends a request_id: a fresh UUID when none is given.
  pqxx::result request =
      Query("SELECT request_id FROM create_requests WHERE card_id = " + sql_->quote(id));
  ASSERT_EQ(request.size(), 1u);
  EXPECT_EQ(request[0][0].as<std::string>().size(), 36u);

  v1::PlatformLink first = CreateLink("alice", "first");
  v1::PlatformLink second = CreateLink("alice", "second");
  run = Cardctl({"--output=json", "create", "--user_id=alice", "--title=Second card",
                 "--link_ids=" + second.id() + "," + first.id()});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  v1::Card card = ParseJson<v1::Card>(run.out);
  EXPECT_EQ(card.title(), "Second card");
  EXPECT_EQ(card.visibility(), v1::VISIBILITY_PUBLIC);  // unspecified is public
  EXPECT_FALSE(card.is_default());
  EXPECT_FALSE(card.qr_enabled());
  ASSERT_EQ(card.links_size(), 2);
  EXPECT_EQ(card.links(0).id(), second.id());
  EXPECT_EQ(card.links(1).id(), first.id());
  EXPECT_FALSE(card.etag().empty());
  EXPECT_GT(card.create_time().seconds(), 0);
  // Proto field names and default values are in the JSON.
  EXPECT_TRUE(absl::StrContains(run.out, R"("is_default":false)")) << run.out;
  EXPECT_EQ(CardRows("alice"), 2);
}

TEST_F(CardctlCommandsTest, CreateWithTheSameRequestIdReturnsTheFirstCard) {
  v1::Card first = CreateCard("alice", "Once", {"--request_id=req-1"});
  v1::Card again = CreateCard("alice", "Once", {"--request_id=req-1"});
  EXPECT_EQ(again.id(), first.id());
  EXPECT_EQ(CardRows("alice"), 1);
  // Without --request_id every run is a new request.
  CreateCard("alice", "Twice");
  CreateCard("alice", "Twice");
  EXPECT_EQ(CardRows("alice"), 3);
}

TEST_F(CardctlCommandsTest, GetPrintsOneCard) {
  v1::PlatformLink link = CreateLink("alice", "octo");
  v1::Card card = CreateCard("alice", "Alice", {"--link_ids=" + link.id()});
  CardctlRun run = Cardctl({"get", "--user_id=alice", "--card_id=" + card.id()});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  ExpectAligned(run.out);
  EXPECT_EQ(FieldOf(run.out, "id").value, card.id());
  EXPECT_EQ(FieldOf(run.out, "slug").value, card.slug());
  EXPECT_EQ(FieldOf(run.out, "etag").value, card.etag());
  EXPECT_EQ(FieldOf(run.out, "links").value, "1");
  EXPECT_TRUE(absl::StrContains(run.out, "https://github.com/octo")) << run.out;

  run = Cardctl({"get", "--output=json", "--user_id=alice", "--card_id=" + card.id()});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  v1::Card fetched = ParseJson<v1::Card>(run.out);
  EXPECT_EQ(fetched.SerializeAsString(),
            card.SerializeAsString());  // a lossless round trip
}

TEST_F(CardctlCommandsTest, ListFollowsEveryPage) {
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i)
    ids.push_back(CreateCard("alice", absl::StrCat("Card ", i)).id());
  CreateCard("bob", "Not alice's");
  ASSERT_EQ(Cardctl({"update", "--user_id=alice", "--card_id=" + ids[3],
                     "--visibility=private"})
                .exit_code,
            0);

  CardctlRun run = Cardctl({"list", "--user_id=alice", "--page_size=2"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  auto rows = TableRows(
      run.out, {"ID", "TITLE", "DEFAULT", "VISIBILITY", "LINKS", "SLUG", "UPDATED"});
  ASSERT_EQ(rows.size(), 5u) << run.out;
  for (size_t i = 0; i < rows.size(); ++i) {
    EXPECT_EQ(rows[i]["ID"], ids[i]);
    EXPECT_EQ(rows[i]["TITLE"], absl::StrCat("Card ", i));
    EXPECT_EQ(rows[i]["DEFAULT"], i == 0 ? "*" : "");
    EXPECT_EQ(rows[i]["VISIBILITY"], i == 3 ? "private" : "public");
    EXPECT_EQ(rows[i]["LINKS"], "0");
    EXPECT_EQ(rows[i]["UPDATED"].size(), 20u)
        << rows[i]["UPDATED"];  // 2024-01-02T03:04:05Z
  }

  run = Cardctl({"--output=json", "list", "--user_id=alice", "--page_size=2"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  v1::ListCardsResponse response = ParseJson<v1::ListCardsResponse>(run.out);
  ASSERT_EQ(response.cards_size(), 5);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(response.cards(i).id(), ids[i]);
  EXPECT_EQ(response.next_page_token(), "");

  run = Cardctl({"list", "--user_id=nobody"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out, "no cards\n");
  run = Cardctl({"list", "--user_id=nobody", "--output=json"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(ParseJson<v1::ListCardsResponse>(run.out).cards_size(), 0);
}

TEST_F(CardctlCommandsTest, UpdateChangesOnlyTheFieldsGiven) {
  v1::PlatformLink link = CreateLink("alice", "octo");
  v1::Card card = CreateCard("alice", "Old",
                             {"--description=Kept", "--qr", "--link_ids=" + link.id()});
  CardctlRun run =
      Cardctl({"update", "--user_id=alice", "--card_id=" + card.id(), "--title=New"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(FieldOf(run.out, "title").value, "New");
  EXPECT_EQ(FieldOf(run.out, "description").value, "Kept");
  EXPECT_EQ(FieldOf(run.out, "qr_enabled").value, "true");
  EXPECT_EQ(FieldOf(run.out, "links").value, "1");
  std::string etag = FieldOf(run.out, "etag").value;
  EXPECT_NE(etag, card.etag());

  // Empty values and false are values too: the flag was given.
  run = Cardctl({"--output=json", "update", "--user_id=alice", "--card_id=" + card.id(),
                 "--description=", "--qr=false", "--link_ids=", "--visibility=private",
                 "--etag=" + etag});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  v1::Card updated = ParseJson<v1::Card>(run.out);
  EXPECT_EQ(updated.title(), "New");
  EXPECT_EQ(updated.description(), "");
  EXPECT_FALSE(updated.qr_enabled());
  EXPECT_EQ(updated.links_size(), 0);
  EXPECT_EQ(updated.visibility(), v1::VISIBILITY_PRIVATE);
  pqxx::result row =
      Query("SELECT title, description, qr_enabled, visibility FROM cards");
  EXPECT_EQ(row[0][0].as<std::string>(), "New");
  EXPECT_EQ(row[0][1].as<std::string>(), "");
  EXPECT_FALSE(row[0][2].as<bool>());
  EXPECT_EQ(row[0][3].as<int>(), 3);
  EXPECT_EQ(Query("SELECT count(*) FROM card_links")[0][0].as<int>(), 0);

  // --noqr is --qr=false; --link_ids sets the links in order.
  v1::PlatformLink other = CreateLink("alice", "other");
  run = Cardctl({"--output=json", "update", "--user_id=alice", "--card_id=" + card.id(),
                 "--link_ids", other.id() + "," + link.id(), "--noqr"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  updated = ParseJson<v1::Card>(run.out);
  ASSERT_EQ(updated.links_size(), 2);
  EXPECT_EQ(updated.links(0).id(), other.id());
  EXPECT_EQ(updated.links(1).id(), link.id());
}

TEST_F(CardctlCommandsTest, DeleteRemovesTheCard) {
  v1::Card keep = CreateCard("alice", "Keep");
  v1::Card gone = CreateCard("alice", "Gone");
  v1::Card also_gone = CreateCard("alice", "Also gone");
  CardctlRun run = Cardctl(
      {"delete", "--user_id=alice", "--card_id=" + gone.id(), "--etag=" + gone.etag()});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out, "deleted card " + gone.id() + "\n");
  run = Cardctl(
      {"delete", "--output=json", "--user_id=alice", "--card_id=" + also_gone.id()});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out, "{}\n");
  ParseJson<google::protobuf::Empty>(run.out);
  EXPECT_EQ(CardRows("alice"), 1);
}

TEST_F(CardctlCommandsTest, SetDefaultAndGetDefault) {
  v1::Card first = CreateCard("alice", "First");
  v1::Card second = CreateCard("alice", "Second");
  CardctlRun run = Cardctl({"get-default", "--user_id=alice"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(FieldOf(run.out, "id").value, first.id());
  EXPECT_EQ(FieldOf(run.out, "default").value, "yes");

  run = Cardctl({"set-default", "--user_id=alice", "--card_id=" + second.id()});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  ExpectAligned(run.out);
  EXPECT_EQ(FieldOf(run.out, "id").value, second.id());
  EXPECT_EQ(FieldOf(run.out, "default").value, "yes");
  // Idempotent, and in JSON.
  run = Cardctl(
      {"set-default", "--output=json", "--user_id=alice", "--card_id=" + second.id()});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_TRUE(ParseJson<v1::Card>(run.out).is_default());

  run = Cardctl({"get-default", "--output=json", "--user_id=alice"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(ParseJson<v1::Card>(run.out).id(), second.id());
  EXPECT_EQ(Query("SELECT id FROM cards WHERE is_default")[0][0].as<std::string>(),
            second.id());
}

TEST_F(CardctlCommandsTest, SharedShowsPublicAndUnlistedCardsBySlug) {
  v1::PlatformLink link = CreateLink("alice", "octo");
  v1::Card card =
      CreateCard("alice", "Shared", {"--visibility=UNLISTED", "--link_ids=" + link.id()});
  CardctlRun run = Cardctl({"shared", "--slug=" + card.slug()});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(FieldOf(run.out, "title").value, "Shared");
  EXPECT_EQ(FieldOf(run.out, "slug").value, card.slug());
  EXPECT_EQ(FieldOf(run.out, "visibility").value, "unlisted");
  EXPECT_EQ(FieldOf(run.out, "links").value, "1");
  EXPECT_TRUE(absl::StrContains(run.out, link.url())) << run.out;
  // The public view shows neither the owner nor anything that addresses the
  // card or its links in the owner's calls.
  for (const std::string& secret : {card.id(), card.user_id(), link.id(), card.etag()}) {
    EXPECT_FALSE(absl::StrContains(run.out, secret)) << secret << " in\n" << run.out;
  }
  run = Cardctl({"shared", "--output=json", "--slug=" + card.slug()});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  v1::SharedCard shared = ParseJson<v1::SharedCard>(run.out);
  EXPECT_EQ(shared.title(), "Shared");
  ASSERT_EQ(shared.links_size(), 1);
  EXPECT_EQ(shared.links(0).username(), link.username());
  for (const std::string& secret : {card.id(), link.id(), std::string(R"("user_id")"),
                                    std::string(R"("etag")"), std::string(R"("id")")}) {
    EXPECT_FALSE(absl::StrContains(run.out, secret)) << secret << " in\n" << run.out;
  }
}

TEST_F(CardctlCommandsTest, LinksCreateListAndDelete) {
  CardctlRun run =
      Cardctl({"links", "create", "--user_id=alice", "--platform=github",
               "--username=octo", "--url=https://github.com/octo", "--display_order=3"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  auto rows =
      TableRows(run.out, {"ID", "PLATFORM", "USERNAME", "ORDER", "URL", "CREATED"});
  ASSERT_EQ(rows.size(), 1u) << run.out;
  EXPECT_EQ(rows[0]["PLATFORM"], "github");
  EXPECT_EQ(rows[0]["USERNAME"], "octo");
  EXPECT_EQ(rows[0]["ORDER"], "3");
  EXPECT_EQ(rows[0]["URL"], "https://github.com/octo");
  std::vector<std::string> ids = {rows[0]["ID"]};
  for (int i = 0; i < 4; ++i)
    ids.push_back(CreateLink("alice", absl::StrCat("u", i)).id());
  CreateLink("bob", "not-alice");
  EXPECT_EQ(Query("SELECT display_order FROM platform_links WHERE id = " +
                  sql_->quote(ids[0]))[0][0]
                .as<int>(),
            3);

  run = Cardctl({"links", "list", "--user_id=alice", "--page_size=2"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  rows = TableRows(run.out, {"ID", "PLATFORM", "USERNAME", "ORDER", "URL", "CREATED"});
  ASSERT_EQ(rows.size(), 5u) << run.out;
  for (size_t i = 0; i < rows.size(); ++i) EXPECT_EQ(rows[i]["ID"], ids[i]);

  run = Cardctl({"--output=json", "links", "list", "--user_id=alice", "--page_size=2"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  v1::ListPlatformLinksResponse response =
      ParseJson<v1::ListPlatformLinksResponse>(run.out);
  ASSERT_EQ(response.links_size(), 5);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(response.links(i).id(), ids[i]);

  run = Cardctl({"links", "delete", "--user_id=alice", "--link_id=" + ids[0]});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out, "deleted link " + ids[0] + "\n");
  run = Cardctl(
      {"links", "delete", "--output=json", "--user_id=alice", "--link_id=" + ids[1]});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out, "{}\n");
  EXPECT_EQ(Query("SELECT count(*) FROM platform_links WHERE user_id = 'alice'")[0][0]
                .as<int>(),
            3);

  run = Cardctl({"links", "list", "--user_id=nobody"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out, "no links\n");
}

TEST_F(CardctlCommandsTest, HealthIsServing) {
  CardctlRun run = Cardctl({"health"});
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out, "SERVING\n");
  run = Cardctl({"health", "--output=json", "--service=devcard.card.v1.CardService"});
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(ParseJson<grpc::health::v1::HealthCheckResponse>(run.out).status(),
            grpc::health::v1::HealthCheckResponse::SERVING);
}

TEST_F(CardctlCommandsTest, HelpListsCommandsFlagsAndExitCodes) {
  for (const char* help : {"--help", "help", "-h"}) {
    CardctlRun run = RunCardctl({help});
    EXPECT_EQ(run.exit_code, 0) << help << run.err;
    for (const char* text : {"links create", "set-default", "Exit codes:", "--user_id",
                             "--target", "7  unavailable or timeout"}) {
      EXPECT_TRUE(absl::StrContains(run.out, text)) << help << " lacks " << text;
    }
  }
}

}  // namespace
}  // namespace card::testing
