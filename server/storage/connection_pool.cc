#include "server/storage/connection_pool.h"

#include <poll.h>

#include <algorithm>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <pqxx/pqxx>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "server/common/cancellation.h"
#include "server/common/log.h"
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
  Shared(PostgresOptions options, std::vector<PreparedStatement> statements)
      : options(std::move(options)), statements(std::move(statements)) {}

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
  void Maintain() {
    std::unique_lock<std::mutex> lock(mu);
    absl::Duration backoff = absl::Milliseconds(100);
    while (!stopping) {
      size_t before = free.size();
      free.erase(std::remove_if(free.begin(), free.end(),
                                [](const auto& conn) { return IsDead(*conn); }),
                 free.end());
      open -= static_cast<int>(before - free.size());
      if (open >= options.pool_size) {
        wake.wait_for(lock, absl::ToChronoNanoseconds(kIdleCheckInterval));
        continue;
      }
      ++open;  // reserved while connecting
      lock.unlock();
      std::shared_ptr<pqxx::connection> conn;
      absl::Status failure;
      try {
        conn = Connect();
      } catch (const std::exception& e) {
        failure = TranslateDatabaseError(e, "connect", options.metrics);
      }
      lock.lock();
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
      released.notify_all();
      if (!connected) {
        // A request arriving meanwhile cuts the backoff short: the database
        // may be back, and it should not fail on the strength of an old attempt.
        attempt_wanted = false;
        wake.wait_for(lock, absl::ToChronoNanoseconds(backoff),
                      [this] { return stopping || attempt_wanted; });
        backoff = std::min(backoff * 2, kMaxReconnectBackoff);
      }
    }
    exited = true;
    released.notify_all();
  }

  const PostgresOptions options;
  const std::vector<PreparedStatement> statements;
  std::mutex mu;
  std::condition_variable released;  // a connection was freed, or connecting failed
  std::condition_variable wake;      // the maintainer has work
  std::vector<std::shared_ptr<pqxx::connection>> free;
  int open = 0;                  // free + in use + being opened
  int in_use = 0;                // taken by Take, not yet given back
  absl::Status connect_failure;  // of the last attempt; OK once one succeeds
  int64_t attempts = 0;          // connect attempts finished
  bool attempt_wanted = false;   // a request waits for a fresh attempt
  bool stopping = false;
  bool exited = false;
  bool settings_warned = false;  // maintainer thread only
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

ConnectionPool::~ConnectionPool() {
  std::unique_lock<std::mutex> lock(shared_->mu);
  shared_->stopping = true;
  shared_->wake.notify_all();
  // Normally immediate; a connect stuck on a frozen server is left behind.
  shared_->released.wait_for(lock, std::chrono::milliseconds(100),
                             [this] { return shared_->exited; });
}

absl::StatusOr<std::shared_ptr<pqxx::connection>> ConnectionPool::Take(
    absl::Time deadline) {
  std::unique_lock<std::mutex> lock(shared_->mu);
  bool fresh_attempt_seen = false;
  for (;;) {
    while (!shared_->free.empty()) {
      std::shared_ptr<pqxx::connection> conn = std::move(shared_->free.back());
      shared_->free.pop_back();
      if (!IsDead(*conn)) {
        ++shared_->in_use;
        return conn;
      }
      --shared_->open;
      shared_->wake.notify_one();
    }
    if (!shared_->connect_failure.ok() && shared_->open == 0) {
      // Nothing is open and the last attempt failed: ask for a fresh one and
      // go by its outcome. (With connections open, one of them comes back.)
      if (fresh_attempt_seen) return shared_->connect_failure;
      int64_t seen = shared_->attempts;
      shared_->attempt_wanted = true;
      shared_->wake.notify_one();
      bool attempted = shared_->released.wait_for(
          lock,
          absl::ToChronoNanoseconds(
              std::max(deadline - absl::Now(), absl::ZeroDuration())),
          [&] { return shared_->attempts > seen || !shared_->free.empty(); });
      if (!attempted) {
        return absl::DeadlineExceededError(
            "the database did not accept a connection before the deadline");
      }
      fresh_attempt_seen = true;
      continue;
    }
    absl::Duration left = deadline - absl::Now();
    bool timed_out = left <= absl::ZeroDuration() ||
                     shared_->released.wait_for(lock, absl::ToChronoNanoseconds(left)) ==
                         std::cv_status::timeout;
    if (timed_out && shared_->free.empty()) {
      return absl::DeadlineExceededError(
          "no database connection free before the deadline");
    }
  }
}

void ConnectionPool::Give(std::shared_ptr<pqxx::connection> connection, bool reusable) {
  std::lock_guard<std::mutex> lock(shared_->mu);
  --shared_->in_use;
  if (reusable) {
    shared_->free.push_back(std::move(connection));
    shared_->released.notify_one();
  } else {
    --shared_->open;
    shared_->wake.notify_one();
  }
}

ConnectionUse ConnectionPool::Use() const {
  std::lock_guard<std::mutex> lock(shared_->mu);
  return ConnectionUse{shared_->options.pool_size, shared_->in_use,
                       static_cast<int>(shared_->free.size())};
}

absl::Status ConnectionPool::Run(absl::string_view operation, absl::Time deadline,
                                 const std::function<void(pqxx::connection&)>& work) {
  Cancellation* cancellation = CurrentCancellation();
  if (cancellation != nullptr && cancellation->IsCancelled()) {
    return absl::CancelledError("cancelled before it reached the database");
  }
  absl::StatusOr<std::shared_ptr<pqxx::connection>> conn = Take(deadline);
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
  Give(*std::move(conn), reusable);
  return status;
}

}  // namespace card::storage
