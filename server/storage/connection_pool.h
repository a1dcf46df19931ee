// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
// A fixed-size pool of libpqxx connections that never makes a request wait on
// a dead one or on PostgreSQL beyond the request's deadline.
//
// - Connections are opened (and reopened after they break) by a maintenance
//   thread, never on a request's path: a request takes an open connection or
//   waits for one until its deadline. When none is open and connecting fails,
//   a request asks for one fresh attempt (cutting the reconnect backoff short)
//   and gets UNAVAILABLE if that fails too: fast when the database refuses,
//   bounded by the deadline when it does not answer.
// - A connection is checked before it is handed out (a socket that became
//   readable while idle is a server that closed it, e.g. on restart), and idle
//   ones are checked every second, so a restart does not fail requests later.
// - Every use is watched by a StatementGuard: cancelled in PostgreSQL at the
//   deadline or when the call is cancelled, its socket shut down if PostgreSQL
//   does not answer that either. An interrupted connection is not reused.
//
// In StatementMode::kPrepared each connection gets the server's
// statement_timeout, READ COMMITTED, and registers every statement the
// repository uses (libpqxx 6 prepares each on the connection's first use of
// it, once). In kUnnamed nothing is set on the session and nothing is
// prepared by name (postgres_repository.h says why); Execute sends each
// statement's text with its parameters instead.
#pragma once

#include <functional>
#include <memory>
#include <pqxx/connection>
#include <pqxx/nontransaction>
#include <pqxx/result>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "server/storage/postgres_repository.h"
#include "server/storage/statement_guard.h"

namespace card::storage {

struct PreparedStatement {
  const char* name;
  const char* sql;
};

class ConnectionPool {
 public:
  ConnectionPool(PostgresOptions options, std::vector<PreparedStatement> statements);
  ~ConnectionPool();  // Does not wait for a connect stuck on a frozen server.

  ConnectionPool(const ConnectionPool&) = delete;
  ConnectionPool& operator=(const ConnectionPool&) = delete;

  // Runs `work` on a pooled connection, bounded by `deadline` and by the
  // calling thread's call cancellation; translates what it throws.
  // `operation` names the work in log lines.
  absl::Status Run(absl::string_view operation, absl::Time deadline,
                   const std::function<void(pqxx::connection&)>& work);

  ConnectionUse Use() const;

  // Closes every idle connection; the maintainer opens new ones.
  void DropIdle();

  // Runs one statement in autocommit mode (one round trip; for our PL/pgSQL
  // functions, one whole transaction) and returns its rows.
  template <typename... Args>
  absl::StatusOr<pqxx::result> Execute(absl::string_view operation, absl::Time deadline,
                                       const PreparedStatement& statement,
                                       const Args&... args) {
    pqxx::result rows;
    absl::Status status = Run(operation, deadline, [&](pqxx::connection& conn) {
      pqxx::nontransaction txn(conn);
      rows = ExecuteIn(txn, statement, args...);
    });
    if (!status.ok()) return status;
    return rows;
  }

  // Runs `statement` in `txn` the pool's way: by name when statements are
  // prepared, as text with its parameters when unnamed. Every statement the
  // server runs on a pooled connection goes through here (work passed to Run
  // calls it instead of txn.exec_prepared).
  template <typename... Args>
  pqxx::result ExecuteIn(pqxx::transaction_base& txn, const PreparedStatement& statement,
                         const Args&... args) const {
    return mode_ == StatementMode::kUnnamed ? txn.exec_params(statement.sql, args...)
                                            : txn.exec_prepared(statement.name, args...);
  }

 private:
  // The connections and the maintainer thread's state, under one absl::Mutex
  // (connection_pool.cc); shared with that thread, which may outlive the pool.
  struct Shared;

  const StatementMode mode_;
  std::shared_ptr<Shared> shared_;
  StatementGuard guard_;
};

}  // namespace card::storage
