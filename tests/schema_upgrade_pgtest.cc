// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
// The schema layout as operators meet it across releases: a database created
// before functions and views moved to server/storage/definitions/ keeps its
// data and gets the new definitions; a changed definition is re-applied at the
// next start; unchanged ones are left alone.
#include <memory>
#include <pqxx/pqxx>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "devcard/card/v1/card_service.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "server/app/card_server.h"
#include "server/storage/migrations.h"
#include "tests/support/pg_environment.h"

namespace card::testing {
namespace {

namespace v1 = devcard::card::v1;

// Restores a pg_dump archive from tests/fixtures/ into the database at `url`.
void RestoreFixture(const std::string& name, const std::string& url) {
  RunCommand(absl::StrCat("pg_restore --no-owner --exit-on-error --dbname='", url, "' '",
                          CARD_SOURCE_DIR, "/tests/fixtures/", name, "'"));
}

std::unique_ptr<app::CardServer> StartServer(const std::string& url) {
  app::ServerConfig options;
  options.transport.listen = "127.0.0.1:0";
  options.database.url = url;
  options.database.repository.pool_size = options.scheduler.workers = 2;
  absl::StatusOr<std::unique_ptr<app::CardServer>> server =
      app::CardServer::Start(options);
  EXPECT_TRUE(server.ok()) << server.status();
  return server.ok() ? *std::move(server) : nullptr;
}

std::unique_ptr<v1::CardService::Stub> StubFor(const app::CardServer& server) {
  return v1::CardService::NewStub(grpc::CreateChannel(
      absl::StrCat("127.0.0.1:", server.port()), grpc::InsecureChannelCredentials()));
}

std::unique_ptr<grpc::ClientContext> Context() {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  return context;
}

std::string One(pqxx::connection& conn, const std::string& sql) {
  pqxx::nontransaction txn(conn);
  return txn.exec1(sql)[0].c_str();
}

TEST(SchemaUpgrade, ADatabaseFromBeforeDefinitionsKeepsItsDataAndGetsTheNewFunctions) {
  // The database as the previous release left it, with data written by the
  // previous release's own functions (tests/fixtures/README.md).
  std::string url = PostgresEnvironment::Get().CreateDatabase();
  RestoreFixture("cards_b25440a.dump", url);
  pqxx::connection sql(url);
  ASSERT_EQ(One(sql, "SELECT count(*) FROM pg_proc WHERE proname = 'card_owned'"), "0");
  const std::string link_id =
      One(sql, "SELECT id FROM platform_links WHERE user_id = 'alice'");
  const std::string first_id = One(sql, "SELECT id FROM cards WHERE title = 'First'");
  const std::string second_id = One(sql, "SELECT id FROM cards WHERE title = 'Second'");

  std::unique_ptr<app::CardServer> server = StartServer(url);
  ASSERT_NE(server, nullptr);
  auto stub = StubFor(*server);

  // The data is all there, as the API shows it.
  v1::ListCardsRequest list;
  list.set_user_id("alice");
  v1::ListCardsResponse listed;
  ASSERT_TRUE(stub->ListCards(Context().get(), list, &listed).ok());
  ASSERT_EQ(listed.cards_size(), 2);
  EXPECT_EQ(listed.cards(0).id(), first_id);
  EXPECT_TRUE(listed.cards(0).is_default());
  ASSERT_EQ(listed.cards(0).links_size(), 1);
  EXPECT_EQ(listed.cards(0).links(0).id(), link_id);
  EXPECT_EQ(listed.cards(1).id(), second_id);
  EXPECT_EQ(listed.cards(1).visibility(), v1::VISIBILITY_PRIVATE);
  EXPECT_TRUE(listed.cards(1).qr_enabled());

  // The idempotency key written by the old function still answers a retry.
  v1::CreateCardRequest retry;
  retry.set_user_id("alice");
  retry.mutable_card()->set_title("First");
  retry.mutable_card()->set_description("d");
  retry.mutable_card()->set_visibility(v1::VISIBILITY_PUBLIC);
  retry.add_link_ids(link_id);
  retry.set_request_id("req-1");
  v1::Card retried;
  ASSERT_TRUE(stub->CreateCard(Context().get(), retry, &retried).ok());
  EXPECT_EQ(retried.id(), first_id);

  // The new definitions replaced the old functions (no second overload) and
  // run: an update with the old card's etag, then deleting the default.
  EXPECT_EQ(One(sql, "SELECT count(*) FROM pg_proc WHERE proname = 'card_create'"), "1");
  EXPECT_EQ(One(sql, "SELECT count(*) FROM pg_proc WHERE proname = 'card_owned'"), "1");
  EXPECT_EQ(One(sql, "SELECT count(*) FROM card_schema_definitions"),
            std::to_string(storage::Definitions().size()));
  v1::UpdateCardRequest update;
  update.set_user_id("alice");
  update.mutable_card()->set_id(second_id);
  update.mutable_card()->set_title("Second, renamed");
  update.mutable_card()->set_etag(listed.cards(1).etag());
  update.mutable_update_mask()->add_paths("title");
  v1::Card updated;
  ASSERT_TRUE(stub->UpdateCard(Context().get(), update, &updated).ok());
  EXPECT_EQ(updated.title(), "Second, renamed");
  v1::DeleteCardRequest remove;
  remove.set_user_id("alice");
  remove.set_card_id(first_id);
  google::protobuf::Empty empty;
  ASSERT_TRUE(stub->DeleteCard(Context().get(), remove, &empty).ok());
  EXPECT_EQ(One(sql, "SELECT id FROM cards WHERE user_id = 'alice' AND is_default"),
            second_id);

  // Nothing else changed: bob's card is as it was, and the migration history
  // only gained the migrations newer than the fixture.
  EXPECT_EQ(One(sql, "SELECT count(*) FROM cards WHERE user_id = 'bob' AND is_default"),
            "1");
  EXPECT_EQ(
      One(sql,
          "SELECT string_agg(name, ',' ORDER BY version) FROM card_schema_migrations"),
      "0001_cards,0002_card_lifecycle,0003_group_commit,0004_definition_fingerprints,"
      "0005_link_refusals_alike,0006_card_health_check,0007_user_keys");
  // 0007 gave every card's slug to card_slugs and every card link its user.
  EXPECT_EQ(One(sql,
                "SELECT count(*) FROM cards c LEFT JOIN card_slugs s "
                "ON s.slug = c.slug AND s.user_id = c.user_id AND s.card_id = c.id "
                "WHERE s.slug IS NULL"),
            "0");
  EXPECT_EQ(One(sql,
                "SELECT count(*) FROM card_links cl JOIN cards c ON c.id = cl.card_id "
                "WHERE cl.user_id IS DISTINCT FROM c.user_id"),
            "0");
  server->Shutdown(absl::Seconds(2));
}

// Starts a server on `url` (which brings the schema up to date) and stops it.
void StartAndStop(const std::string& url) {
  std::unique_ptr<app::CardServer> server = StartServer(url);
  if (server != nullptr) server->Shutdown(absl::Seconds(1));
}

TEST(SchemaUpgrade, AChangedDefinitionIsReappliedAtTheNextStartAndOnlyThen) {
  std::string url = PostgresEnvironment::Get().CreateDatabase();
  StartAndStop(url);
  pqxx::connection sql(url);
  const std::string applied_at =
      "SELECT max(applied_at)::text FROM card_schema_definitions";
  std::string first_applied = One(sql, applied_at);

  // Unchanged: a second start leaves the definitions alone.
  StartAndStop(url);
  EXPECT_EQ(One(sql, applied_at), first_applied);

  // A database whose card_lock_user differs from the release's (as after an
  // edit of its file) gets the release's back at the next start.
  {
    pqxx::work txn(sql);
    txn.exec(R"sql(
      CREATE OR REPLACE FUNCTION card_lock_user(p_user_id text, p_lock_timeout_ms integer)
      RETURNS void LANGUAGE plpgsql AS $$ BEGIN END $$;
      UPDATE card_schema_definitions SET definition = 'edited'
      WHERE name = '10_card_lock_user')sql");
    txn.commit();
  }
  StartAndStop(url);
  EXPECT_NE(One(sql, applied_at), first_applied);
  EXPECT_NE(One(sql, "SELECT prosrc FROM pg_proc WHERE proname = 'card_lock_user'")
                .find("pg_advisory_xact_lock"),
            std::string::npos);
}

TEST(SchemaUpgrade, AnOlderBinaryLeavesANewerDatabasesDefinitionsAlone) {
  std::string url = PostgresEnvironment::Get().CreateDatabase();
  StartAndStop(url);
  pqxx::connection sql(url);
  // As after a newer release: a migration this binary does not know, and a
  // card_lock_user of its own (here: one that still takes the lock).
  {
    pqxx::work txn(sql);
    txn.exec(R"sql(
      INSERT INTO card_schema_migrations (version, name) VALUES (9999, '9999_future');
      CREATE OR REPLACE FUNCTION card_lock_user(p_user_id text, p_lock_timeout_ms integer)
      RETURNS void LANGUAGE plpgsql AS $$
      BEGIN PERFORM pg_advisory_xact_lock(hashtextextended(p_user_id, 0)); END $$;
      UPDATE card_schema_definitions SET definition = 'from a newer release'
      WHERE name = '10_card_lock_user')sql");
    txn.commit();
  }
  StartAndStop(url);
  EXPECT_EQ(One(sql,
                "SELECT definition FROM card_schema_definitions "
                "WHERE name = '10_card_lock_user'"),
            "from a newer release");
  EXPECT_EQ(One(sql, "SELECT prosrc FROM pg_proc WHERE proname = 'card_lock_user'")
                .find("set_config"),
            std::string::npos);
}

}  // namespace
}  // namespace card::testing
