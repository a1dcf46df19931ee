// SPDX-License-Identifier: Apache-2.0
// SPDX-FileCopyrightText: 2026 The CardService Authors
#include "server/storage/connection_pool.h"

#include <poll.h>

#include <algorithm>
#include <cstdint>
#include <pqxx/pqxx>
#include <thread>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "server/common/check.h"
#include "server/common/log.h"
#include "server/exec/cancellation.h"
#include "server/storage/database_url.h"
#include "server/storage/pg_errors.h"

namespace card::storage {
namespace {

// How long an interrupted statement's cancel request may take before its
// socket is shut down.
constexpr absl::Duration kCancelGrace = absl::Milliseconds(500);
constexpr absl::Duration kIdleCheckInterval = absl::Seconds(1);
constexpr absl::Duration kMaxReconnectBackoff = absl::Seconds(2);

// An idle connection has nothing to read. If its socket is readable (EOF, or
// the FATAL message a stopping server sends) or in error, it is dead.
bool IsDead(pqxx::connection& connection) {
  if (!connection.is_open()) return true;
  pollfd fd{connection.sock(), POLLIN | POLLRDHUP, 0};
  return ::poll(&fd, 1, 0) != 0;
}

}  // namespace

struct ConnectionPool::Shared {
  Shared(PostgresOptions pool_options, std::vector<PreparedStatement> pool_statements)
      : options(std::move(pool_options)), statements(std::move(pool_statements)) {}

  std::shared_ptr<pqxx::connection> Connect() {
    if (options.statement_mode == StatementMode::kUnnamed) return ConnectUnnamed();
    auto conn = std::make_shared<pqxx::connection>(options.connection_string);
    pqxx::nontransaction setup(*conn);
    // READ COMMITTED whatever the database's default: each statement after the
    // user's lock must see what the previous holder committed (under
    // REPEATABLE READ the snapshot would predate the lock). A session whose
    // client went away (its socket shut down by the StatementGuard) is ended
    // by PostgreSQL within a second instead of running on to commit.
    setup.exec_params(
        "SELECT set_config('statement_timeout', $1, false), "
        "set_config('application_name', $2, false), "
        "set_config('default_transaction_isolation', 'read committed', false), "
        "set_config('client_connection_check_interval', '1000', false)",
        std::to_string(absl::ToInt64Milliseconds(options.statement_timeout)),
        options.application_name);
    setup.commit();
    for (const PreparedStatement& statement : statements) {
      conn->prepare(statement.name, statement.sql);
    }
    return conn;
  }

  // Through a transaction-mode pool a session setting would stick to whichever
  // server connection ran it, and other clients' transactions would inherit
  // it. So nothing is set: application_name travels in the startup packet
  // (PgBouncer passes it on), and the settings above come from the role.
  // READ COMMITTED is what the locking's correctness rests on, so a
  // connection whose transactions would not run under it is refused; the
  // others only cap how long things take, so a difference is logged once.
  std::shared_ptr<pqxx::connection> ConnectUnnamed() {
    auto conn = std::make_shared<pqxx::connection>(WithParameter(
        options.connection_string, "application_name", options.application_name));
    pqxx::nontransaction check(*conn);
    pqxx::row settings = check.exec_params1(
        "SELECT current_setting('default_transaction_isolation'), "
        "current_setting('statement_timeout')::interval = $1::interval, "
        "current_setting('client_connection_check_interval')::interval = '1s'",
        absl::StrCat(absl::ToInt64Milliseconds(options.statement_timeout), "ms"));
    check.commit();
    if (settings[0].as<std::string>() != "read committed") {
      // A refused connection, like one the database refuses: UNAVAILABLE,
      // health NOT_SERVING, logged every few seconds, retried with backoff.
      throw pqxx::broken_connection(absl::StrCat(
          "--db_statement_mode=unnamed: transactions on this database default to ",
          settings[0].as<std::string>(),
          ", not read committed; set it on the role: ALTER ROLE ... SET "
          "default_transaction_isolation = 'read committed'"));
    }
    if (!settings_warned && !(settings[1].as<bool>() && settings[2].as<bool>())) {
      settings_warned = true;
      log::Warning(absl::StrCat(
          "--db_statement_mode=unnamed: the database role does not set statement_timeout "
          "= '",
          absl::ToInt64Milliseconds(options.statement_timeout),
          "ms' and client_connection_check_interval = '1s' (deploy/README.md, "
          "\"PgBouncer\"); deadlines are still enforced by cancelling statements"));
    }
    return conn;
  }

  // Keeps `pool_size` connections open; drops idle ones that died.
  void Maintain() ABSL_LOCKS_EXCLUDED(mu) {
    mu.Lock();  // not a MutexLock: released around each connect
    absl::Duration backoff = absl::Milliseconds(100);
    while (!stopping) {
      size_t before = free.size();
      free.erase(std::remove_if(free.begin(), free.end(),
                                [](const auto& conn) { return IsDead(*conn); }),
                 free.end());
      open -= static_cast<int>(before - free.size());
      if (open >= options.pool_size) {
        wake.WaitWithTimeout(&mu, kIdleCheckInterval);
        continue;
      }
      ++open;  // reserved while connecting
      std::shared_ptr<pqxx::connection> conn;
      absl::Status failure;
      mu.Unlock();
      try {
        conn = Connect();
      } catch (const std::exception& e) {
        failure = TranslateDatabaseError(e, "connect", options.metrics);
      }
      mu.Lock();
      bool connected = conn != nullptr;
      if (connected) {
        free.push_back(std::move(conn));
        connect_failure = absl::OkStatus();
        backoff = absl::Milliseconds(100);
      } else {
        --open;
        connect_failure = failure;
      }
      ++attempts;
      // Waiters take the new connection, or learn that connecting failed.
      released.SignalAll();
      if (!connected) {
        // A request arriving meanwhile cuts the backoff short: the database
        // may be back, and it should not fail on the strength of an old attempt.
        attempt_wanted = false;
        absl::Time until = absl::Now() + backoff;
        while (!stopping && !attempt_wanted && !wake.WaitWithDeadline(&mu, until)) {
        }
        backoff = std::min(backoff * 2, kMaxReconnectBackoff);
      }
    }
    exited = true;
    released.SignalAll();
    mu.Unlock();
  }

  // Tells the maintainer to exit and waits for it briefly: normally
  // immediate; a connect stuck on a frozen server is left behind.
  void StopMaintaining() ABSL_LOCKS_EXCLUDED(mu) {
    absl::MutexLock lock(&mu);
    stopping = true;
    wake.SignalAll();
    absl::Time until = absl::Now() + absl::Milliseconds(100);
    while (!exited && !released.WaitWithDeadline(&mu, until)) {
    }
  }

  // An open connection, checked alive, waiting for one until `deadline`.
  absl::StatusOr<std::shared_ptr<pqxx::connection>> Take(absl::Time deadline)
      ABSL_LOCKS_EXCLUDED(mu) {
    absl::MutexLock lock(&mu);
    bool fresh_attempt_seen = false;
    for (;;) {
      while (!free.empty()) {
        std::shared_ptr<pqxx::connection> conn = std::move(free.back());
        free.pop_back();
        if (!IsDead(*conn)) {
          ++in_use;
          return conn;
        }
        --open;
        wake.Signal();
      }
      if (!connect_failure.ok() && open == 0) {
        // Nothing is open and the last attempt failed: ask for a fresh one and
        // go by its outcome. (With connections open, one of them comes back.)
        if (fresh_attempt_seen) return connect_failure;
        int64_t seen = attempts;
        attempt_wanted = true;
        wake.Signal();
        while (attempts <= seen && free.empty()) {
          if (released.WaitWithDeadline(&mu, deadline) && attempts <= seen &&
              free.empty()) {
            return absl::DeadlineExceededError(
                "the database did not accept a connection before the deadline");
          }
        }
        fresh_attempt_seen = true;
        continue;
      }
      bool timed_out =
          deadline <= absl::Now() || released.WaitWithDeadline(&mu, deadline);
      if (timed_out && free.empty()) {
        return absl::DeadlineExceededError(
            "no database connection free before the deadline");
      }
    }
  }

  // Back from Take: to the free list, or (not reusable) dropped, for the
  // maintainer to open another.
  void Give(std::shared_ptr<pqxx::connection> connection, bool reusable)
      ABSL_LOCKS_EXCLUDED(mu) {
    absl::MutexLock lock(&mu);
    CARD_CHECK(in_use > 0, "a connection given back was taken");
    --in_use;
    if (reusable) {
      free.push_back(std::move(connection));
      released.Signal();
    } else {
      --open;
      wake.Signal();
    }
  }

  void DropIdle() ABSL_LOCKS_EXCLUDED(mu) {
    std::vector<std::shared_ptr<pqxx::connection>> dropped;
    {
      absl::MutexLock lock(&mu);
      open -= static_cast<int>(free.size());
      dropped.swap(free);
      wake.Signal();
    }
    // Closed outside the lock: closing sends a Terminate message.
  }

  ConnectionUse Use() ABSL_LOCKS_EXCLUDED(mu) {
    absl::MutexLock lock(&mu);
    return ConnectionUse{options.pool_size, in_use, static_cast<int>(free.size())};
  }

  const PostgresOptions options;
  const std::vector<PreparedStatement> statements;
  absl::Mutex mu;
  absl::CondVar released;  // a connection was freed, or connecting failed
  absl::CondVar wake;      // the maintainer has work
  std::vector<std::shared_ptr<pqxx::connection>> free ABSL_GUARDED_BY(mu);
  int open ABSL_GUARDED_BY(mu) = 0;    // free + in use + being opened
  int in_use ABSL_GUARDED_BY(mu) = 0;  // taken by Take, not yet given back
  absl::Status connect_failure
      ABSL_GUARDED_BY(mu);                   // of the last attempt; OK once one succeeds
  int64_t attempts ABSL_GUARDED_BY(mu) = 0;  // connect attempts finished
  bool attempt_wanted ABSL_GUARDED_BY(mu) = false;  // a request waits for a fresh attempt
  bool stopping ABSL_GUARDED_BY(mu) = false;
  bool exited ABSL_GUARDED_BY(mu) = false;
  bool settings_warned = false;  // maintainer thread only (Connect)
};

ConnectionPool::ConnectionPool(PostgresOptions options,
                               std::vector<PreparedStatement> statements)
    : mode_(options.statement_mode),
      shared_(std::make_shared<Shared>(std::move(options), std::move(statements))),
      guard_(kCancelGrace) {
  std::shared_ptr<Shared> shared = shared_;
  // Detached so that destruction never waits on a connect to a frozen server;
  // the thread keeps `shared` alive and exits when it sees `stopping`.
  std::thread([shared] { shared->Maintain(); }).detach();
}

ConnectionPool::~ConnectionPool() { shared_->StopMaintaining(); }

ConnectionUse ConnectionPool::Use() const { return shared_->Use(); }

void ConnectionPool::DropIdle() { shared_->DropIdle(); }

absl::Status ConnectionPool::Run(absl::string_view operation, absl::Time deadline,
                                 const std::function<void(pqxx::connection&)>& work) {
  Cancellation* cancellation = CurrentCancellation();
  if (cancellation != nullptr && cancellation->IsCancelled()) {
    return absl::CancelledError("cancelled before it reached the database");
  }
  absl::StatusOr<std::shared_ptr<pqxx::connection>> conn = shared_->Take(deadline);
  if (!conn.ok()) return conn.status();
  absl::Status status;
  StatementGuard::Outcome outcome;
  {
    std::unique_ptr<StatementGuard::Watch> watch = guard_.Start(*conn, deadline);
    try {
      work(**conn);
    } catch (const std::exception& e) {
      status = TranslateDatabaseError(e, operation, shared_->options.metrics);
    }
    outcome = watch->Finish();
  }
  bool interrupted = outcome != StatementGuard::Outcome::kFinished;
  if (!status.ok() && interrupted) {
    // Whatever PostgreSQL or libpq said, the caller learns why we stopped.
    status = outcome == StatementGuard::Outcome::kCancelled
                 ? absl::CancelledError("cancelled by the client")
                 : absl::DeadlineExceededError(
                       "the database did not answer before the deadline");
  }
  bool reusable = !interrupted && !IsConnectionLoss(status) && (*conn)->is_open();
  shared_->Give(*std::move(conn), reusable);
  return status;
}

}  // namespace card::storage
