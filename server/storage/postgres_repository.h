// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
// PostgresRepository: model::CardRepository on PostgreSQL. The only storage
// header the layers above include (with database_url.h and migrations.h); the
// pool, the statements and the row readers behind it are private to storage/,
// and so is libpqxx.
//
// Every mutation is one call of a PL/pgSQL function (storage/definitions/) in
// autocommit: one round trip, one transaction, the user's lock taken first and
// never held across the network.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/common/metrics.h"
#include "server/model/card_repository.h"

namespace card::storage {

class ConnectionPool;

// How statements reach PostgreSQL.
//  * kPrepared: each statement is prepared by name once per connection and
//    reused; per-connection settings are set on the session. Fastest, but it
//    needs the connection's server session to itself: directly, or through a
//    session-mode pool (or PgBouncer >= 1.21 with max_prepared_statements).
//  * kUnnamed: each statement is sent with its parameters in one round trip as
//    libpq's unnamed statement (PQexecParams), and the server sets nothing on
//    the session: nothing outlives a transaction, so it works through a
//    transaction-mode pool such as Debian's PgBouncer 1.18. The settings the
//    server needs come from the database role instead (deploy/README.md,
//    "PgBouncer"); READ COMMITTED is checked on every new connection.
enum class StatementMode { kPrepared, kUnnamed };

// "prepared" or "unnamed" (the --db_statement_mode flag); INVALID_ARGUMENT otherwise.
absl::StatusOr<StatementMode> ParseStatementMode(absl::string_view name);

struct PostgresOptions {
  std::string connection_string;  // From ConnectionString(). Never logged: it may carry a
                                  // password.
  int pool_size = 16;
  // PostgreSQL's statement_timeout on every connection: a cap on any one statement.
  absl::Duration statement_timeout = absl::Seconds(10);
  std::string application_name = "card-server";
  StatementMode statement_mode = StatementMode::kPrepared;
  // Hears lock waits and database errors; not owned, outlives the repository.
  MetricsSink* metrics = MetricsSink::None();
  // The database is a Citus coordinator (citus_setup.h). Each call that
  // creates cards then holds one user's (a call across users cannot run on one
  // user's node): several users' creates handed over together take one call,
  // and one transaction, per user. And Ping also asks which workers answer
  // (citus_workers()).
  bool citus = false;
};

// What the last Ping learnt of a Citus cluster's workers.
struct CitusWorkers {
  int listed = 0;             // Active primaries in pg_dist_node.
  int answering = 0;          // Of those, how many ran a statement for the coordinator.
  std::string not_answering;  // "host:port, ..." of the others.
  bool known = false;  // False before the first answer, or when the question failed.
};

// How the repository's connection pool is used right now (for metrics).
struct ConnectionUse {
  int size = 0;    // Connections the pool keeps open when it can.
  int in_use = 0;  // Taken by a request.
  int idle = 0;    // Open and free.
};

// Whether `status` (from Ping or start-up) says the database is read-only: a
// standby, or a demoted primary (made by ReadOnlyDatabaseStatus, pg_errors.cc).
bool IsReadOnlyDatabase(const absl::Status& status);

class PostgresRepository final : public model::CardRepository {
 public:
  // Connects lazily: the first call opens a connection.
  explicit PostgresRepository(const PostgresOptions& options);
  ~PostgresRepository() override;

  PostgresRepository(const PostgresRepository&) = delete;
  PostgresRepository& operator=(const PostgresRepository&) = delete;

  absl::StatusOr<std::vector<absl::StatusOr<model::Card>>> CreateCards(
      const std::vector<model::NewCard>& cards, absl::Time deadline) override;
  absl::StatusOr<model::Card> UpdateCard(const model::CardUpdate& update,
                                         absl::Time deadline) override;
  absl::Status DeleteCard(const std::string& user_id, const std::string& card_id,
                          int64_t expected_version, absl::Time deadline) override;
  absl::StatusOr<model::Card> SetDefaultCard(const std::string& user_id,
                                             const std::string& card_id,
                                             absl::Time deadline) override;
  absl::StatusOr<model::Card> GetCard(const std::string& user_id,
                                      const std::string& card_id,
                                      absl::Time deadline) override;
  absl::StatusOr<model::Card> GetDefaultCard(const std::string& user_id,
                                             absl::Time deadline) override;
  absl::StatusOr<model::SharedCard> GetSharedCard(const std::string& slug,
                                                  absl::Time deadline) override;
  absl::StatusOr<std::vector<model::Card>> ListCards(
      const std::string& user_id, const std::optional<model::CardCursor>& after,
      int limit, absl::Time deadline) override;

  absl::StatusOr<model::PlatformLink> CreateLink(const model::NewPlatformLink& link,
                                                 absl::Time deadline) override;
  absl::Status DeleteLink(const std::string& user_id, const std::string& link_id,
                          absl::Time deadline) override;
  absl::StatusOr<std::vector<model::PlatformLink>> ListLinks(
      const std::string& user_id, const std::optional<model::CardCursor>& after,
      int limit, absl::Time deadline) override;

  absl::StatusOr<int> ExpireCreateRequests(absl::Duration age, int batch,
                                           absl::Time deadline) override;
  // Also fails while the database refuses writes (IsReadOnlyDatabase) or a
  // function or view the server calls is missing (FAILED_PRECONDITION).
  absl::Status Ping(absl::Time deadline) override;

  // Closes the idle connections, for the maintainer to open new ones: after a
  // failover behind a DNS name or a pooler, they reach the new primary.
  // (A statement refused as read-only, SQLSTATE 25006, drops its own.)
  void ReconnectIdle();

  ConnectionUse connection_use() const;
  CitusWorkers citus_workers() const;

 private:
  // CreateCards for items of several users, one call per user.
  absl::StatusOr<std::vector<absl::StatusOr<model::Card>>> CreateCardsUserByUser(
      const std::vector<model::NewCard>& cards, absl::Time deadline);

  MetricsSink* const metrics_;
  const bool citus_;
  std::unique_ptr<ConnectionPool> pool_;
  mutable absl::Mutex workers_mu_;
  CitusWorkers workers_ ABSL_GUARDED_BY(workers_mu_);
};

}  // namespace card::storage
