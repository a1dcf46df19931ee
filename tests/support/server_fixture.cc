// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
#include "tests/support/server_fixture.h"

#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "tests/support/pg_environment.h"

namespace card::testing {

bool CardServerTest::Sabotaged() {
  const char* sabotage = std::getenv("CARD_TEST_SABOTAGE");
  return sabotage != nullptr && std::string(sabotage) == "no-lock";
}

bool CardServerTest::UserQueuesSabotaged() {
  const char* sabotage = std::getenv("CARD_TEST_SABOTAGE");
  return sabotage != nullptr && std::string(sabotage) == "no-user-queues";
}

void CardServerTest::SetUp() {
  database_url_ = PostgresEnvironment::Get().CreateDatabase();
  app::ServerConfig options;
  options.transport.listen = "127.0.0.1:0";
  options.database.url = database_url_;
  options.database.repository.pool_size = options.scheduler.workers = 8;
  options.database.health_check_interval = absl::Milliseconds(200);
  options.scheduler.one_queue_per_request_for_test = UserQueuesSabotaged();
  // ctest runs some suites again with CARD_TEST_DB_STATEMENT_MODE=unnamed.
  if (const char* mode = std::getenv("CARD_TEST_DB_STATEMENT_MODE")) {
    absl::StatusOr<storage::StatementMode> parsed = storage::ParseStatementMode(mode);
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    options.database.repository.statement_mode = *parsed;
  }
  Configure(options);
  absl::StatusOr<std::unique_ptr<app::CardServer>> server =
      app::CardServer::Start(options);
  ASSERT_TRUE(server.ok()) << server.status();
  server_ = *std::move(server);
  for (int i = 1; i < Replicas(); ++i) {
    options.migration.apply = false;
    absl::StatusOr<std::unique_ptr<app::CardServer>> replica =
        app::CardServer::Start(options);
    ASSERT_TRUE(replica.ok()) << replica.status();
    more_replicas_.push_back(*std::move(replica));
  }
  std::shared_ptr<grpc::Channel> channel = NewChannel(0);
  client_ = std::make_unique<client::CardClient>(channel, absl::Seconds(10));
  stub_ = v1::CardService::NewStub(channel);
  sql_ = std::make_unique<pqxx::connection>(database_url_);
  if (Sabotaged()) {
    Query(R"sql(
      CREATE OR REPLACE FUNCTION card_lock_user(p_user_id text, p_lock_timeout_ms integer)
      RETURNS void LANGUAGE plpgsql AS $$ BEGIN END $$)sql");
    Query(R"sql(
      CREATE OR REPLACE FUNCTION card_try_lock_user(p_user_id text)
      RETURNS boolean LANGUAGE sql AS $$ SELECT true $$)sql");
    Query("DROP INDEX cards_one_default_per_user");
  }
}

void CardServerTest::TearDown() {
  stub_.reset();
  client_.reset();
  for (auto& replica : more_replicas_) replica->Shutdown(absl::Seconds(5));
  more_replicas_.clear();
  if (server_) server_->Shutdown(absl::Seconds(5));
  server_.reset();
  sql_.reset();
}

std::string CardServerTest::target() const {
  return absl::StrCat("127.0.0.1:", server_->port());
}

std::shared_ptr<grpc::Channel> CardServerTest::NewChannel(int index) const {
  grpc::ChannelArguments args;
  // Distinct arguments give each channel its own subchannel and TCP connection.
  args.SetInt("card.test.channel", index);
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  size_t replica = static_cast<size_t>(index) % (more_replicas_.size() + 1);
  int port = replica == 0 ? server_->port() : more_replicas_[replica - 1]->port();
  return grpc::CreateCustomChannel(absl::StrCat("127.0.0.1:", port),
                                   grpc::InsecureChannelCredentials(), args);
}

std::unique_ptr<grpc::ClientContext> CardServerTest::Context(absl::Duration timeout) {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  return context;
}

grpc::Status CardServerTest::Create(const std::string& user_id, const std::string& title,
                                    v1::Card* out, const std::string& request_id) {
  v1::CreateCardRequest request;
  request.set_user_id(user_id);
  request.mutable_card()->set_title(title);
  request.set_request_id(request_id);
  return client_->CreateCard(request, out);
}

grpc::Status CardServerTest::Get(const std::string& user_id, const std::string& card_id,
                                 v1::Card* out) {
  v1::GetCardRequest request;
  request.set_user_id(user_id);
  request.set_card_id(card_id);
  return client_->GetCard(request, out);
}

pqxx::result CardServerTest::Query(const std::string& sql) {
  pqxx::nontransaction txn(*sql_);
  return txn.exec(sql);
}

std::vector<CardServerTest::UserCounts> CardServerTest::CountsByUser() {
  std::vector<UserCounts> counts;
  for (const pqxx::row& row :
       Query("SELECT user_id, count(*), count(*) FILTER (WHERE is_default) "
             "FROM cards GROUP BY user_id ORDER BY user_id")) {
    counts.push_back({row[0].c_str(), row[1].as<int>(), row[2].as<int>()});
  }
  return counts;
}

}  // namespace card::testing
