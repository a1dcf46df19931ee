// A fixed-size pool of libpqxx connections.
//
// Connections are opened lazily and replaced after they break, so the server
// keeps serving once PostgreSQL is back. Each new connection gets the server's
// statement_timeout (a cap on any one statement) and READ COMMITTED, and
// registers every statement the repository uses (libpqxx 6 prepares each on the
// connection's first use of it, once).
#pragma once

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <pqxx/connection>
#include <pqxx/nontransaction>
#include <pqxx/result>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "storage/postgres_repository.h"

namespace card::storage {

struct PreparedStatement {
  const char* name;
  const char* sql;
};

class ConnectionPool {
 public:
  ConnectionPool(PostgresOptions options, std::vector<PreparedStatement> statements);
  ~ConnectionPool();

  ConnectionPool(const ConnectionPool&) = delete;
  ConnectionPool& operator=(const ConnectionPool&) = delete;

  // Runs `work` on a pooled connection. Waits for a free connection until
  // `deadline` (DEADLINE_EXCEEDED), opens one if needed (UNAVAILABLE if that
  // fails), translates any exception `work` throws, and replaces the connection
  // if it was lost. `operation` names the work in log lines.
  absl::Status Run(absl::string_view operation, absl::Time deadline,
                   const std::function<void(pqxx::connection&)>& work);

  // Runs one prepared statement in autocommit mode (one round trip; for our
  // PL/pgSQL functions, one whole transaction) and returns its rows.
  template <typename... Args>
  absl::StatusOr<pqxx::result> Execute(absl::string_view operation, absl::Time deadline,
                                       const PreparedStatement& statement,
                                       const Args&... args) {
    pqxx::result rows;
    absl::Status status = Run(operation, deadline, [&](pqxx::connection& conn) {
      pqxx::nontransaction txn(conn);
      rows = txn.exec_prepared(statement.name, args...);
    });
    if (!status.ok()) return status;
    return rows;
  }

 private:
  std::unique_ptr<pqxx::connection> Connect() const;

  const PostgresOptions options_;
  const std::vector<PreparedStatement> statements_;
  std::mutex mu_;
  std::condition_variable released_;
  // Free slots; a null slot has no open connection yet.
  std::vector<std::unique_ptr<pqxx::connection>> free_;
};

}  // namespace card::storage
