// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
// Test fixture: a fresh database, a real card-server (CardServer) on a loopback
// port in front of it, the typed client (client::CardClient) and a raw stub,
// and a direct SQL connection for asserting on what the database holds.
#pragma once

#include <memory>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "client/card_client.h"
#include "devcard/card/v1/card_service.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "server/app/card_server.h"

namespace card::testing {

namespace v1 = devcard::card::v1;
using ::grpc::StatusCode;

class CardServerTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  // Override to change the server's options before it starts.
  virtual void Configure(app::ServerConfig& options) { (void)options; }
  // Override to run several replicas on the one database. Each replica
  // serves a user's calls one at a time, so only calls spread over replicas
  // race in PostgreSQL, where the per-user lock must order them.
  virtual int Replicas() const { return 1; }

  // The first replica's address.
  std::string target() const;
  // A channel on a connection of its own (`index` keeps channels apart) to
  // replica `index % Replicas()`.
  std::shared_ptr<grpc::Channel> NewChannel(int index) const;

  // A context with a deadline (default 10 s).
  static std::unique_ptr<grpc::ClientContext> Context(
      absl::Duration timeout = absl::Seconds(10));

  // Convenience wrappers through client_.
  grpc::Status Create(const std::string& user_id, const std::string& title, v1::Card* out,
                      const std::string& request_id = "");
  grpc::Status Get(const std::string& user_id, const std::string& card_id, v1::Card* out);

  // Rows of `sql` as strings (for assertions straight on the database).
  pqxx::result Query(const std::string& sql);

  // Per user: number of cards and number of defaults, straight from SQL.
  struct UserCounts {
    std::string user_id;
    int cards;
    int defaults;
  };
  std::vector<UserCounts> CountsByUser();

  // CARD_TEST_SABOTAGE=no-lock turns off the per-user lock and drops the
  // partial unique index, to show that the concurrency tests catch it.
  static bool Sabotaged();
  // CARD_TEST_SABOTAGE=no-user-queues gives every request a queue of its own
  // (the old single FIFO), to show that the isolation test catches it.
  static bool UserQueuesSabotaged();

  std::string database_url_;
  std::unique_ptr<app::CardServer> server_;  // the first replica
  std::vector<std::unique_ptr<app::CardServer>> more_replicas_;
  // Both on one channel to the first replica. The typed client sets a 10 s
  // deadline on every call; the stub is for calls that need their own
  // ClientContext (another deadline, none at all, the async API).
  std::unique_ptr<client::CardClient> client_;
  std::unique_ptr<v1::CardService::Stub> stub_;
  std::unique_ptr<pqxx::connection> sql_;
};

}  // namespace card::testing
